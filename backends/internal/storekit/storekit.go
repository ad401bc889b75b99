// Package storekit holds what the networked storage backends (s3, gcs,
// redis) do alike around their own protocol: checking a call's key and
// options, holding the configuration a store serves with, reading the
// configuration attributes they share, and the frame of turning a client
// error into an sdk error kind. What a service's answers mean stays with
// each backend.
package storekit

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"

	"github.com/vire-dev/vire/sdk"
)

// CheckKey refuses a key no store may hold: empty, or longer than
// sdk.MaxKeyLength.
func CheckKey(key string) error {
	if key == "" {
		return fmt.Errorf("empty key: %w", sdk.ErrInvalidArgument)
	}
	if len(key) > sdk.MaxKeyLength {
		return fmt.Errorf("key of %d bytes is longer than %d: %w", len(key), sdk.MaxKeyLength, sdk.ErrInvalidArgument)
	}
	return nil
}

// CheckPut is CheckKey plus the one PutOptions value no store accepts:
// IfNoneMatch other than "" or "*".
func CheckPut(key string, o sdk.PutOptions) error {
	if err := CheckKey(key); err != nil {
		return err
	}
	if o.IfNoneMatch != "" && o.IfNoneMatch != "*" {
		return fmt.Errorf("IfNoneMatch must be empty or \"*\": %w", sdk.ErrInvalidArgument)
	}
	return nil
}

// Current holds the configuration a store serves with: Configure swaps a
// new one in, Close swaps it out, and every call reads it. Set Backend
// when creating the store.
type Current[C any] struct {
	// Backend names the store in errors ("s3").
	Backend string

	mu sync.RWMutex
	c  *C
}

// Get returns the configuration, or an error wrapping sdk.ErrUnavailable
// while there is none.
func (cur *Current[C]) Get() (*C, error) {
	cur.mu.RLock()
	defer cur.mu.RUnlock()
	if cur.c == nil {
		return nil, fmt.Errorf("%s: store is not configured: %w", cur.Backend, sdk.ErrUnavailable)
	}
	return cur.c, nil
}

// ForKey checks key with CheckKey, then returns the configuration.
func (cur *Current[C]) ForKey(key string) (*C, error) {
	if err := CheckKey(key); err != nil {
		return nil, err
	}
	return cur.Get()
}

// ForPut checks key and o with CheckPut, then returns the configuration.
func (cur *Current[C]) ForPut(key string, o sdk.PutOptions) (*C, error) {
	if err := CheckPut(key, o); err != nil {
		return nil, err
	}
	return cur.Get()
}

// Swap installs c (nil: none) and returns the configuration it replaces,
// for the caller to release.
func (cur *Current[C]) Swap(c *C) *C {
	cur.mu.Lock()
	defer cur.mu.Unlock()
	old := cur.c
	cur.c = c
	return old
}

// ByteSize reads attribute name as a whole number of bytes from lo to hi;
// def when the attribute is absent. A bad value adds a ConfigError to errs
// and returns def.
func ByteSize(v sdk.ConfigValue, name string, def, lo, hi int64, errs *sdk.ConfigErrors) int64 {
	if _, ok := v[name]; !ok {
		return def
	}
	f := v.Number(name)
	if f != float64(int64(f)) || int64(f) < lo || int64(f) > hi {
		*errs = append(*errs, sdk.ConfigError{Attribute: name,
			Message: fmt.Sprintf("must be a whole number of bytes from %d to %d", lo, hi)})
		return def
	}
	return int64(f)
}

// Classify is the frame of a backend's error mapping. Context errors pass
// unchanged (the caller gave up; nothing is wrong with the store). Then
// kind, the backend's reading of its service's answer, names the sdk kind
// err means, or nil; the result wraps that kind and keeps err's text.
// Failing that, a network failure is sdk.ErrUnavailable, and anything else
// is returned as it is.
func Classify(err error, kind func(error) error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	if k := kind(err); k != nil {
		return fmt.Errorf("%w: %v", k, err)
	}
	var ne net.Error
	if errors.As(err, &ne) || strings.Contains(err.Error(), "connection refused") {
		return fmt.Errorf("%w: %v", sdk.ErrUnavailable, err)
	}
	return err
}
