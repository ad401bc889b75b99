package crypt

import (
	"context"
	"crypto/rand"
	"fmt"
	"testing"
)

func BenchmarkSeal(b *testing.B) {
	for _, n := range []int{2 << 10, 50 << 10} {
		b.Run(fmt.Sprintf("%dKiB", n>>10), func(b *testing.B) {
			ctx := context.Background()
			e := newTestEnvelope(b, newEnvProvider(b, newMasterKey()), newMemKeyrings(), nil)
			plain := make([]byte, n)
			rand.Read(plain)
			mustSeal(b, e, "alice", "warm-up")
			b.SetBytes(int64(n))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := e.Seal(ctx, "alice", "users/alice/portfolio/main", plain); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkOpen(b *testing.B) {
	for _, n := range []int{2 << 10, 50 << 10} {
		b.Run(fmt.Sprintf("%dKiB", n>>10), func(b *testing.B) {
			ctx := context.Background()
			e := newTestEnvelope(b, newEnvProvider(b, newMasterKey()), newMemKeyrings(), nil)
			plain := make([]byte, n)
			rand.Read(plain)
			blob, err := e.Seal(ctx, "alice", "users/alice/portfolio/main", plain)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(n))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := e.Open(ctx, "alice", "users/alice/portfolio/main", blob); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
