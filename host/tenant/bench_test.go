package tenant

import (
	"context"
	"testing"
	"time"

	"github.com/vire-dev/vire/internal/servertest"
)

// BenchmarkAuthenticate: one key lookup and one tenant lookup over the file
// backend, through the store's validated cache.
func BenchmarkAuthenticate(b *testing.B) {
	s, _, _ := newService(b)
	ctx := context.Background()
	if _, err := s.CreateTenant(ctx, "alice", ""); err != nil {
		b.Fatal(err)
	}
	k, err := s.CreateKey(ctx, "alice", KeySpec{})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := s.Authenticate(ctx, k.Key); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseKey(b *testing.B) {
	id, _ := newKeyID()
	k, _ := newKey(id)
	for b.Loop() {
		if _, _, err := ParseKey(k); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAuditAppend: records queued and written in segments of 256.
func BenchmarkAuditAppend(b *testing.B) {
	st := newStore(b, servertest.FileBackend(b, b.TempDir()), true)
	l, err := NewAuditLog(AuditOptions{Store: st, FlushInterval: 10 * time.Millisecond})
	if err != nil {
		b.Fatal(err)
	}
	r := Record{Time: time.Now(), KeyID: "KEYID0000001", Method: "GET", Route: "/api/x/{name}", Status: 200, RequestID: "0123456789abcdef01234567"}
	for b.Loop() {
		if err := l.Append(context.Background(), "alice", r); err != nil {
			b.Fatal(err)
		}
	}
	if err := l.Close(context.Background()); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkAuditAppendSync: each Append waits for its segment.
func BenchmarkAuditAppendSync(b *testing.B) {
	st := newStore(b, servertest.FileBackend(b, b.TempDir()), true)
	l, err := NewAuditLog(AuditOptions{Store: st, FlushInterval: -1})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close(context.Background())
	r := Record{Time: time.Now(), KeyID: "KEYID0000001", Method: "GET", Route: "/api/x/{name}", Status: 200, RequestID: "0123456789abcdef01234567"}
	for b.Loop() {
		if err := l.Append(context.Background(), "alice", r); err != nil {
			b.Fatal(err)
		}
	}
}
