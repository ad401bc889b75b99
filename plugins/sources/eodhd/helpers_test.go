package eodhd

import (
	"bytes"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/vire-dev/vire/internal/fakeeodhd"
	"github.com/vire-dev/vire/sdk"
)

const (
	operatorKey = "OPkey.5f3a9c0d1e"
	tenantKey   = "TENkey.77b1e0aa42"
)

// logBuffer collects a logger's output for inspection.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

type harness struct {
	src  *Source
	fake *fakeeodhd.Server
	logs *logBuffer
}

// newHarness starts a fake EODHD that accepts both test keys and a source
// configured against it with the operator key. extra overrides
// configuration attributes (nil values delete them).
func newHarness(t *testing.T, o fakeeodhd.Options, extra sdk.ConfigValue) *harness {
	t.Helper()
	if o.Tokens == nil {
		o.Tokens = []string{operatorKey, tenantKey}
	}
	fake := fakeeodhd.New(o)
	t.Cleanup(fake.Close)
	logs := &logBuffer{}
	src := New(hclog.New(&hclog.LoggerOptions{Output: logs, Level: hclog.Trace, JSONFormat: true}))
	src.backoff = time.Millisecond
	cfg := sdk.ConfigValue{"api_key": operatorKey, "base_url": fake.URL, "requests_per_minute": 1000}
	for k, v := range extra {
		if v == nil {
			delete(cfg, k)
			continue
		}
		cfg[k] = v
	}
	full, err := src.Schema().Complete(cfg)
	if err != nil {
		t.Fatalf("complete: %v", err)
	}
	if err := src.Configure(t.Context(), full); err != nil {
		t.Fatalf("configure: %v", err)
	}
	return &harness{src: src, fake: fake, logs: logs}
}

func f64(v float64) *float64 { return &v }

func eqPtr(a, b *float64) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}

func show(p *float64) string {
	if p == nil {
		return "nil"
	}
	return fmt.Sprint(*p)
}
