package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/vire-dev/vire/sdk"
)

// ErrNoChange, returned by an update function, ends the update without
// writing; Update then returns the current ETag and no error.
var ErrNoChange = errors.New("store: no change")

// UpdateBytes runs a read-modify-write cycle on a document: fn receives the
// current JSON (nil and exists=false when the document does not exist) and
// returns the new JSON. The write is conditional on the version fn saw; when
// another writer got in first, the cycle starts again with fresh data, up to
// the store's MaxAttempts, with jittered backoff. fn may therefore run more
// than once and must not have side effects. It returns the new ETag.
func (s *Store) UpdateBytes(ctx context.Context, tenant, kind, name string, fn func(cur []byte, exists bool) ([]byte, error)) (string, error) {
	r, err := s.docRef(tenant, kind, name)
	if err != nil {
		return "", err
	}
	return s.update(ctx, r, fn)
}

// Update is the typed form of Store.UpdateBytes: fn receives the current
// document decoded into a fresh T (the zero T when it does not exist) and
// returns the next one.
func Update[T any](ctx context.Context, s *Store, tenant, kind, name string, fn func(cur T, exists bool) (T, error)) (string, error) {
	return s.UpdateBytes(ctx, tenant, kind, name, typed(fn))
}

func typed[T any](fn func(cur T, exists bool) (T, error)) func([]byte, bool) ([]byte, error) {
	return func(data []byte, exists bool) ([]byte, error) {
		var cur T
		if exists {
			if err := json.Unmarshal(data, &cur); err != nil {
				return nil, fmt.Errorf("decoding the current document: %w", err)
			}
		}
		next, err := fn(cur, exists)
		if err != nil {
			return nil, err
		}
		return json.Marshal(next)
	}
}

func (s *Store) update(ctx context.Context, r ref, fn func([]byte, bool) ([]byte, error)) (string, error) {
	for attempt := 1; ; attempt++ {
		cur, m, err := s.read(ctx, r)
		exists := err == nil
		if err != nil && !errors.Is(err, sdk.ErrNotFound) {
			return "", err
		}
		if cur != nil {
			cur = append([]byte(nil), cur...) // fn may modify what it is given
		}
		next, err := fn(cur, exists)
		if errors.Is(err, ErrNoChange) {
			return m.ETag, nil
		}
		if err != nil {
			return "", err
		}
		if !json.Valid(next) {
			return "", fmt.Errorf("store: updating %s: the new document is not valid JSON: %w", r.desc, sdk.ErrInvalidArgument)
		}
		o := PutOpts{IfMatch: m.ETag}
		if !exists {
			o = PutOpts{IfNoneMatch: "*"}
		}
		etag, err := s.write(ctx, r, next, o)
		if err == nil {
			return etag, nil
		}
		if !errors.Is(err, sdk.ErrPrecondition) {
			return "", err
		}
		if attempt >= s.maxAttempts {
			return "", fmt.Errorf("store: updating %s: gave up after %d attempts lost to concurrent writers: %w", r.desc, attempt, err)
		}
		if err := sleep(ctx, backoff(attempt)); err != nil {
			return "", err
		}
	}
}

// backoff returns a full-jitter exponential delay: uniform in [0, base·2^n)
// capped at 250ms, so contending writers spread out instead of colliding
// again in lockstep.
func backoff(attempt int) time.Duration {
	ceiling := min(2*time.Millisecond<<min(attempt, 8), 250*time.Millisecond)
	return rand.N(ceiling) + time.Millisecond
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
