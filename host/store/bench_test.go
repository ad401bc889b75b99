package store

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"testing"
)

// benchDoc is a JSON document of about n bytes.
func benchDoc(n int) map[string]string {
	raw := make([]byte, n*3/4)
	rand.Read(raw)
	return map[string]string{"payload": base64.StdEncoding.EncodeToString(raw)}
}

var benchModes = []struct {
	name string
	o    instanceOpts
}{
	{"plain", instanceOpts{plain: true}},
	{"encrypted", instanceOpts{}},
	{"encrypted+cache", instanceOpts{cached: true}},
}

func BenchmarkStorePut(b *testing.B) {
	for _, be := range backendKinds {
		for _, mode := range benchModes {
			for _, size := range []int{2 << 10, 50 << 10} {
				b.Run(fmt.Sprintf("%s/%s/%dKiB", be.name, mode.name, size>>10), func(b *testing.B) {
					ctx := context.Background()
					s := newInstance(b, be.open(b), newMasterKey(), mode.o)
					doc := benchDoc(size)
					if _, err := s.Put(ctx, "alice", "portfolio", "warm-up", doc, PutOpts{}); err != nil {
						b.Fatal(err)
					}
					b.SetBytes(int64(size))
					b.ReportAllocs()
					for b.Loop() {
						if _, err := s.Put(ctx, "alice", "portfolio", "main", doc, PutOpts{}); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		}
	}
}

func BenchmarkStoreGet(b *testing.B) {
	for _, be := range backendKinds {
		for _, mode := range benchModes {
			for _, size := range []int{2 << 10, 50 << 10} {
				b.Run(fmt.Sprintf("%s/%s/%dKiB", be.name, mode.name, size>>10), func(b *testing.B) {
					ctx := context.Background()
					s := newInstance(b, be.open(b), newMasterKey(), mode.o)
					if _, err := s.Put(ctx, "alice", "portfolio", "main", benchDoc(size), PutOpts{}); err != nil {
						b.Fatal(err)
					}
					b.SetBytes(int64(size))
					b.ReportAllocs()
					for b.Loop() {
						var doc map[string]string
						if _, err := s.Get(ctx, "alice", "portfolio", "main", &doc); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		}
	}
}
