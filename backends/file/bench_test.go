package file

import (
	"fmt"
	"testing"

	"github.com/vire-dev/vire/sdk"
)

func BenchmarkPut(b *testing.B) {
	for _, c := range []struct {
		versions int
		fsync    bool
	}{{0, false}, {5, false}, {5, true}} {
		b.Run(fmt.Sprintf("versions=%d/fsync=%v", c.versions, c.fsync), func(b *testing.B) {
			s := openStore(b, sdk.ConfigValue{"root": b.TempDir(), "versions": c.versions, "fsync": c.fsync})
			data := make([]byte, 2048)
			i := 0
			for b.Loop() {
				if _, err := s.Put(b.Context(), fmt.Sprintf("users/alice/doc/%d", i%100), data, sdk.PutOptions{}); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

func BenchmarkGet(b *testing.B) {
	s := openStore(b, sdk.ConfigValue{"root": b.TempDir(), "fsync": false})
	if _, err := s.Put(b.Context(), "users/alice/doc/x", make([]byte, 2048), sdk.PutOptions{}); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, _, err := s.Get(b.Context(), "users/alice/doc/x"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkList1000(b *testing.B) {
	s := openStore(b, sdk.ConfigValue{"root": b.TempDir(), "fsync": false})
	for i := range 1000 {
		if _, err := s.Put(b.Context(), fmt.Sprintf("users/u%d/doc/%d", i%10, i), nil, sdk.PutOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		if _, err := s.List(b.Context(), sdk.ListOptions{Prefix: "users/", Limit: 100}); err != nil {
			b.Fatal(err)
		}
	}
}
