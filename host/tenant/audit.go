package tenant

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/vire-dev/vire/host/store"
	"github.com/vire-dev/vire/sdk"
)

// The audit log of a tenant is a hash chain of records stored as the
// tenant's documents:
//
//	audit/<seq, 20 digits>   a segment: {"format":1,"seq":N,"records":[...]}
//	audit-head/head          {"seq","n","hash"}: the last segment known to be written
//
// Every record carries the SHA-256 of the exact bytes of the record before
// it ("prev") and its position in the chain ("n"), so editing, deleting or
// reordering a record breaks the link to the next one. Segments are
// created with If-None-Match, so two instances appending at once never
// overwrite each other: the loser reads the winner's segment and chains its
// records after it. The head anchors the end of the chain, so segments
// deleted from the end are detected too; see Verify. When the store
// encrypts, segments are sealed like any document of the tenant.
const (
	kindAudit     = "audit"
	kindAuditHead = "audit-head"
	headName      = "head"
	segmentFormat = 1
)

// Record is one audited request. It never holds a body, a query string, a
// header or a key: only the key's public id.
type Record struct {
	// N is the record's position in the tenant's chain, from 1.
	N    uint64    `json:"n"`
	Time time.Time `json:"time"`
	// KeyID is the API key's public id; empty in personal mode.
	KeyID  string `json:"key_id,omitempty"`
	Method string `json:"method"`
	// Route is the matched route's path template ("/api/admin/tenants/{tenant}"),
	// never the raw path.
	Route     string `json:"route"`
	Status    int    `json:"status"`
	LatencyUS int64  `json:"latency_us"`
	RequestID string `json:"request_id"`
	// Prev is the hex SHA-256 of the previous record's stored bytes; empty
	// for the first record.
	Prev string `json:"prev"`
}

type segment struct {
	Format  int               `json:"format"`
	Seq     uint64            `json:"seq"`
	Records []json.RawMessage `json:"records"`
}

type chainHead struct {
	Seq  uint64 `json:"seq"`
	N    uint64 `json:"n"`
	Hash string `json:"hash"`
}

func segName(seq uint64) string { return fmt.Sprintf("%020d", seq) }

func recordHash(raw []byte) string {
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:])
}

// Defaults of AuditOptions.
const (
	DefaultFlushInterval = time.Second
	DefaultMaxSegment    = 256
	DefaultMaxPending    = 10_000
	flushTimeout         = 30 * time.Second
)

var (
	// ErrAuditBacklog: the tenant's records cannot be written fast enough
	// (the store is failing); requests should be refused until it drains.
	ErrAuditBacklog = errors.New("tenant: the audit log is not keeping up")
	// ErrAuditClosed: the log was closed.
	ErrAuditClosed = errors.New("tenant: the audit log is closed")
	// errTenantGone: the tenant was deleted; its records have nowhere to go.
	errTenantGone = errors.New("tenant: the tenant no longer exists")
)

// AuditOptions configure an AuditLog.
type AuditOptions struct {
	// Store holds the segments. Required.
	Store  *store.Store
	Logger hclog.Logger
	// FlushInterval is how long a record may wait in memory before its
	// segment is written. Negative: Append waits until its record is
	// written (concurrent requests still share one write).
	FlushInterval time.Duration
	// MaxSegment caps the records in one segment; a full segment is
	// written at once.
	MaxSegment int
	// MaxPending caps the unwritten records of one tenant; beyond it Admit
	// refuses, so no request is served that could not be audited.
	MaxPending int
	// Active, when set, is asked before writing for a tenant; records of a
	// tenant that no longer exists are dropped with a warning.
	Active func(ctx context.Context, tenant string) (bool, error)
}

// AuditLog appends records to tenants' chains, batching them into segments.
//
// Durability: with a positive FlushInterval a record is acknowledged once
// it is queued, and written within the interval; a failed write is logged
// and retried, and the records stay queued (Admit then refuses new requests
// once MaxPending are waiting), and Close writes everything queued. What can
// be lost is what was queued when the process died without Close (a crash
// or SIGKILL): at most one interval of records. A negative FlushInterval
// closes that window at the cost of one store write in every request's
// latency.
type AuditLog struct {
	o   AuditOptions
	log hclog.Logger

	mu     sync.Mutex
	chains map[string]*chain
	closed bool

	stop   chan struct{}
	ticker sync.WaitGroup
	// inflight counts running flushes and idle is closed when it drops to
	// zero (both guarded by mu). A WaitGroup would not do: the ticker starts
	// flushes while Flush waits, and a WaitGroup may not grow from zero
	// during a Wait.
	inflight int
	idle     chan struct{}
	failures atomic.Uint64
	written  atomic.Uint64
}

// chain is one tenant's append state. pending and flushing are guarded by
// AuditLog.mu; the rest belongs to the one running flush.
type chain struct {
	tenant   string
	pending  []pendingRecord
	flushing bool

	known bool
	seq   uint64
	n     uint64
	hash  string
}

type pendingRecord struct {
	r    Record
	done chan error // synchronous mode only
}

// NewAuditLog returns a log and starts its flusher; Close it.
func NewAuditLog(o AuditOptions) (*AuditLog, error) {
	if o.Store == nil {
		return nil, errors.New("tenant: AuditOptions.Store is required")
	}
	if o.Logger == nil {
		o.Logger = hclog.NewNullLogger()
	}
	if o.FlushInterval == 0 {
		o.FlushInterval = DefaultFlushInterval
	}
	if o.MaxSegment <= 0 {
		o.MaxSegment = DefaultMaxSegment
	}
	if o.MaxPending <= 0 {
		o.MaxPending = DefaultMaxPending
	}
	l := &AuditLog{o: o, log: o.Logger.Named("audit"), chains: map[string]*chain{}, stop: make(chan struct{})}
	if o.FlushInterval > 0 {
		l.ticker.Add(1)
		go l.tick()
	}
	return l, nil
}

func (l *AuditLog) sync() bool { return l.o.FlushInterval < 0 }

func (l *AuditLog) tick() {
	defer l.ticker.Done()
	t := time.NewTicker(l.o.FlushInterval)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
			l.mu.Lock()
			for _, c := range l.chains {
				if len(c.pending) > 0 {
					l.startFlushLocked(c)
				}
			}
			l.mu.Unlock()
		}
	}
}

func (l *AuditLog) chainLocked(tenant string) *chain {
	c, ok := l.chains[tenant]
	if !ok {
		c = &chain{tenant: tenant}
		l.chains[tenant] = c
	}
	return c
}

// Admit reports whether a request of the tenant may be served: ErrAuditBacklog
// when its records are not being written.
func (l *AuditLog) Admit(tenant string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return ErrAuditClosed
	}
	if c, ok := l.chains[tenant]; ok && len(c.pending) >= l.o.MaxPending {
		return ErrAuditBacklog
	}
	return nil
}

// Append queues a record for the tenant's chain (N and Prev are filled in
// when it is written). In synchronous mode it returns once the record is
// written, or with the write's error (the record then stays queued and is
// retried). If ctx ends first the record still gets written.
func (l *AuditLog) Append(ctx context.Context, tenant string, r Record) error {
	if err := store.ValidateTenant(tenant); err != nil {
		return err
	}
	r.N, r.Prev = 0, ""
	pr := pendingRecord{r: r}
	if l.sync() {
		pr.done = make(chan error, 1)
	}
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return ErrAuditClosed
	}
	c := l.chainLocked(tenant)
	c.pending = append(c.pending, pr)
	if l.sync() || len(c.pending) >= l.o.MaxSegment {
		l.startFlushLocked(c)
	}
	l.mu.Unlock()
	if pr.done == nil {
		return nil
	}
	select {
	case err := <-pr.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (l *AuditLog) startFlushLocked(c *chain) {
	if c.flushing {
		return
	}
	c.flushing = true
	if l.inflight == 0 {
		l.idle = make(chan struct{})
	}
	l.inflight++
	go l.flush(c)
}

// flush writes c's pending records, a segment at a time, until none are
// left or a write fails.
func (l *AuditLog) flush(c *chain) {
	defer func() {
		l.mu.Lock()
		l.inflight--
		if l.inflight == 0 {
			close(l.idle)
		}
		l.mu.Unlock()
	}()
	for {
		l.mu.Lock()
		n := min(len(c.pending), l.o.MaxSegment)
		if n == 0 {
			c.flushing = false
			l.mu.Unlock()
			return
		}
		batch := append([]pendingRecord(nil), c.pending[:n]...)
		l.mu.Unlock()

		ctx, cancel := context.WithTimeout(context.Background(), flushTimeout)
		err := l.write(ctx, c, batch)
		cancel()

		l.mu.Lock()
		if err == nil || errors.Is(err, errTenantGone) {
			c.pending = c.pending[n:]
		} else {
			// The records stay queued; their waiters hear of this failure
			// now and of nothing later.
			for i := range n {
				c.pending[i].done = nil
			}
			c.flushing = false
		}
		l.mu.Unlock()
		for i := range batch {
			if batch[i].done != nil {
				batch[i].done <- err
			}
		}
		switch {
		case err == nil:
			l.written.Add(uint64(n))
		case errors.Is(err, errTenantGone):
			l.log.Warn("dropped audit records of a deleted tenant", "tenant", c.tenant, "records", n)
		default:
			l.failures.Add(1)
			l.log.Error("cannot write audit records; they stay queued and are retried", "tenant", c.tenant, "records", n, "error", err)
			return
		}
	}
}

// write appends one segment holding batch to c's chain.
func (l *AuditLog) write(ctx context.Context, c *chain, batch []pendingRecord) error {
	if l.o.Active != nil {
		ok, err := l.o.Active(ctx, c.tenant)
		if err != nil {
			return err
		}
		if !ok {
			return errTenantGone
		}
	}
	if !c.known {
		var h chainHead
		_, err := l.o.Store.Get(ctx, c.tenant, kindAuditHead, headName, &h)
		if err != nil && !errors.Is(err, sdk.ErrNotFound) {
			return err
		}
		c.seq, c.n, c.hash = h.Seq, h.N, h.Hash
		c.known = true
	}
	for {
		// Catch up with segments other instances wrote.
		if err := l.advance(ctx, c); err != nil {
			return err
		}
		seg := segment{Format: segmentFormat, Seq: c.seq + 1, Records: make([]json.RawMessage, len(batch))}
		n, hash := c.n, c.hash
		for i, pr := range batch {
			r := pr.r
			n++
			r.N, r.Prev = n, hash
			raw, err := json.Marshal(r)
			if err != nil {
				return err
			}
			seg.Records[i] = raw
			hash = recordHash(raw)
		}
		_, err := l.o.Store.Put(ctx, c.tenant, kindAudit, segName(seg.Seq), seg, store.PutOpts{IfNoneMatch: "*"})
		if errors.Is(err, sdk.ErrPrecondition) {
			continue
		}
		if err != nil {
			return err
		}
		c.seq, c.n, c.hash = seg.Seq, n, hash
		l.moveHead(ctx, c)
		return nil
	}
}

// advance reads the segments after c.seq, if any, and moves c to the end
// of the chain.
func (l *AuditLog) advance(ctx context.Context, c *chain) error {
	for {
		var seg segment
		_, err := l.o.Store.Get(ctx, c.tenant, kindAudit, segName(c.seq+1), &seg)
		if errors.Is(err, sdk.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if len(seg.Records) == 0 {
			return fmt.Errorf("tenant: audit segment %d of tenant %q is empty: %w", c.seq+1, c.tenant, sdk.ErrIntegrity)
		}
		last := seg.Records[len(seg.Records)-1]
		var r Record
		if err := json.Unmarshal(last, &r); err != nil {
			return fmt.Errorf("tenant: audit segment %d of tenant %q: %w", c.seq+1, c.tenant, err)
		}
		c.seq, c.n, c.hash = c.seq+1, r.N, recordHash(last)
	}
}

// moveHead advances the head to c's end. It is a hint and an anchor, never
// needed for appending, so a failure is only logged.
func (l *AuditLog) moveHead(ctx context.Context, c *chain) {
	h := chainHead{Seq: c.seq, N: c.n, Hash: c.hash}
	_, err := store.Update(ctx, l.o.Store, c.tenant, kindAuditHead, headName, func(cur chainHead, _ bool) (chainHead, error) {
		if cur.Seq >= h.Seq {
			return cur, store.ErrNoChange
		}
		return h, nil
	})
	if err != nil {
		l.log.Warn("cannot move the audit head", "tenant", c.tenant, "error", err)
	}
}

// Flush writes every queued record now.
func (l *AuditLog) Flush(ctx context.Context) error {
	for {
		l.mu.Lock()
		pending := 0
		for _, c := range l.chains {
			if len(c.pending) > 0 {
				pending += len(c.pending)
				l.startFlushLocked(c)
			}
		}
		done := l.idle
		l.mu.Unlock()
		if pending == 0 {
			return nil
		}
		select {
		case <-done:
		case <-ctx.Done():
			return fmt.Errorf("tenant: %d audit records are still unwritten: %w", pending, ctx.Err())
		}
		if l.failed() {
			// A write failed: wait a little before trying again.
			select {
			case <-time.After(100 * time.Millisecond):
			case <-ctx.Done():
				return fmt.Errorf("tenant: %d audit records are still unwritten: %w", pending, ctx.Err())
			}
		}
	}
}

// failed reports whether a chain has records but no running flush, which
// after a Wait means its last write failed.
func (l *AuditLog) failed() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, c := range l.chains {
		if len(c.pending) > 0 && !c.flushing {
			return true
		}
	}
	return false
}

// Close stops the flusher and writes everything queued, retrying until ctx
// ends; the error then says how many records were not written.
func (l *AuditLog) Close(ctx context.Context) error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	l.mu.Unlock()
	close(l.stop)
	l.ticker.Wait()
	return l.Flush(ctx)
}

// AuditStats count what the log did.
type AuditStats struct {
	Written  uint64 `json:"written"`
	Pending  int    `json:"pending"`
	Failures uint64 `json:"failures"`
}

// Stats reports the log's counters.
func (l *AuditLog) Stats() AuditStats {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := AuditStats{Written: l.written.Load(), Failures: l.failures.Load()}
	for _, c := range l.chains {
		s.Pending += len(c.pending)
	}
	return s
}
