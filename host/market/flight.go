package market

import (
	"container/list"
	"context"
	"fmt"
	"sync"
)

// flight coalesces concurrent calls with one key into one execution.
// Unlike a plain single-flight, the shared call runs on its own goroutine
// under a context detached from every caller: a caller that gives up
// (cancels, times out) stops waiting without failing the others, and the
// result still reaches the cache for the next request.
type flight struct {
	mu    sync.Mutex
	calls map[string]*flightCall
}

type flightCall struct {
	done chan struct{}
	val  any
	err  error
}

// do runs fn once for all concurrent callers of key. ctx only bounds how
// long this caller waits; fn receives base, which the caller must have
// detached from any one request.
func (f *flight) do(ctx, base context.Context, key string, fn func(context.Context) (any, error)) (any, error) {
	f.mu.Lock()
	if f.calls == nil {
		f.calls = map[string]*flightCall{}
	}
	c, running := f.calls[key]
	if !running {
		c = &flightCall{done: make(chan struct{})}
		f.calls[key] = c
		go f.run(base, key, c, fn)
	}
	f.mu.Unlock()
	select {
	case <-c.done:
		return c.val, c.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (f *flight) run(ctx context.Context, key string, c *flightCall, fn func(context.Context) (any, error)) {
	defer func() {
		if r := recover(); r != nil {
			c.val, c.err = nil, fmt.Errorf("market: refreshing %s panicked: %v", key, r)
		}
		f.mu.Lock()
		delete(f.calls, key)
		f.mu.Unlock()
		close(c.done)
	}()
	c.val, c.err = fn(ctx)
}

// memCache is a size-bounded LRU of decoded market documents, so a warm
// read costs neither a store round trip nor JSON decoding. Entries carry
// the time they were fetched upstream; the caller judges freshness.
type memCache struct {
	mu     sync.Mutex
	budget int64
	used   int64
	ll     *list.List
	items  map[string]*list.Element
}

type memItem struct {
	key  string
	val  any
	cost int64
}

func newMemCache(budget int64) *memCache {
	return &memCache{budget: budget, ll: list.New(), items: map[string]*list.Element{}}
}

func (c *memCache) get(key string) (any, bool) {
	if c.budget <= 0 {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.items[key]
	if !ok {
		return nil, false
	}
	c.ll.MoveToFront(e)
	return e.Value.(*memItem).val, true
}

// put stores val at an approximate cost in bytes; an entry larger than the
// whole budget is not kept.
func (c *memCache) put(key string, val any, cost int64) {
	if c.budget <= 0 || cost > c.budget {
		c.remove(key)
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.items[key]; ok {
		it := e.Value.(*memItem)
		c.used += cost - it.cost
		it.val, it.cost = val, cost
		c.ll.MoveToFront(e)
	} else {
		c.items[key] = c.ll.PushFront(&memItem{key: key, val: val, cost: cost})
		c.used += cost
	}
	for c.used > c.budget {
		e := c.ll.Back()
		it := e.Value.(*memItem)
		c.ll.Remove(e)
		delete(c.items, it.key)
		c.used -= it.cost
	}
}

func (c *memCache) remove(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.items[key]; ok {
		c.used -= e.Value.(*memItem).cost
		c.ll.Remove(e)
		delete(c.items, key)
	}
}
