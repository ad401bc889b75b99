package plugintest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/vire-dev/vire/sdk"
)

func (b *blobSuite) list(t *testing.T) {
	t.Run("PrefixIsBytewise", func(t *testing.T) {
		s, ctx := b.open(t), ctxFor(t)
		keys := []string{"p", "p/", "p/a", "p/a/1", "p/a/2", "p/ab", "p/b/1", "p0", "p\x00", "p\xff", "q/a", "o", "P/a"}
		for _, k := range keys {
			_, err := s.Put(ctx, k, []byte(k), sdk.PutOptions{})
			noErr(t, err, "Put "+k)
		}
		for _, prefix := range []string{"", "p", "p/", "p/a", "p/a/", "p/b", "p\x00", "p\xff", "q", "zzz", "P"} {
			var want []string
			for _, k := range keys {
				if strings.HasPrefix(k, prefix) {
					want = append(want, k)
				}
			}
			slices.Sort(want)
			for _, limit := range []int{0, 1, 2, 1000} {
				got := listAll(t, s, sdk.ListOptions{Prefix: prefix, Limit: limit})
				if !slices.Equal(got, want) {
					t.Errorf("List prefix %q limit %d = %q, want %q", prefix, limit, got, want)
				}
			}
		}
	})

	t.Run("ItemsCarryMeta", func(t *testing.T) {
		s, ctx := b.open(t), ctxFor(t)
		puts := map[string]sdk.Meta{}
		for i, k := range []string{"m/a", "m/b", "m/c"} {
			m, err := s.Put(ctx, k, make([]byte, 10*i+1), sdk.PutOptions{ContentType: "text/x-" + k[2:]})
			noErr(t, err, "Put")
			puts[k] = m
		}
		page, err := s.List(ctx, sdk.ListOptions{Prefix: "m/"})
		noErr(t, err, "List")
		if len(page.Items) != 3 {
			t.Fatalf("List returned %d items, want 3", len(page.Items))
		}
		for _, it := range page.Items {
			want := puts[it.Key]
			if it.Meta.ETag != want.ETag || it.Meta.Size != want.Size {
				t.Errorf("List item %q: ETag %q size %d, want %q size %d", it.Key, it.Meta.ETag, it.Meta.Size, want.ETag, want.Size)
			}
			if it.Meta.Modified.IsZero() {
				t.Errorf("List item %q: Modified is zero", it.Key)
			}
		}
	})

	t.Run("PaginationIsStable", func(t *testing.T) {
		s, ctx := b.open(t), ctxFor(t)
		var want []string
		for i := range 53 {
			// Mixed lengths and separators so store-native order (by path,
			// by encoded name) differs from byte order.
			k := fmt.Sprintf("pg/%d", i)
			if i%5 == 0 {
				k += "/deeper"
			}
			if i%7 == 0 {
				k = "pg/" + strings.Repeat("z", i%11) + "-" + k[3:]
			}
			want = append(want, k)
			_, err := s.Put(ctx, k, []byte(k), sdk.PutOptions{})
			noErr(t, err, "Put")
		}
		slices.Sort(want)
		for _, limit := range []int{1, 2, 3, 7, 52, 53, 54} {
			first := listAll(t, s, sdk.ListOptions{Prefix: "pg/", Limit: limit})
			if !slices.Equal(first, want) {
				missing, extra := diff(want, first)
				t.Errorf("limit %d: missing %q, unexpected %q", limit, missing, extra)
			}
		}
	})

	t.Run("StableKeysSurviveChurn", func(t *testing.T) {
		// Keys that exist for the whole listing appear exactly once while
		// other keys are created and deleted around the cursor.
		s, ctx := b.open(t), ctxFor(t)
		var stable []string
		for i := range 40 {
			k := fmt.Sprintf("c/%03d", i*10)
			stable = append(stable, k)
			_, err := s.Put(ctx, k, []byte("stable"), sdk.PutOptions{})
			noErr(t, err, "Put")
		}
		churn := func(step int) {
			for j := range 4 {
				k := fmt.Sprintf("c/%03d", (step*37+j*101)%400)
				if k[len(k)-1] == '0' {
					k += "x" // never touch a stable key
				}
				if step%2 == 0 {
					if _, err := s.Put(ctx, k, []byte("churn"), sdk.PutOptions{}); err != nil {
						t.Errorf("churn Put: %v", err)
					}
				} else if err := s.Delete(ctx, k, sdk.DeleteOptions{}); err != nil && !errors.Is(err, sdk.ErrNotFound) {
					t.Errorf("churn Delete: %v", err)
				}
			}
		}
		seen := map[string]int{}
		o := sdk.ListOptions{Prefix: "c/", Limit: 3}
		prev := ""
		for step := 0; ; step++ {
			if step > 10000 {
				t.Fatal("listing under churn never ended")
			}
			page, err := s.List(ctx, o)
			noErr(t, err, "List")
			for _, it := range page.Items {
				if it.Key <= prev {
					t.Errorf("key %q after %q: order broken under churn", it.Key, prev)
				}
				prev = it.Key
				seen[it.Key]++
			}
			if page.NextCursor == "" {
				break
			}
			o.Cursor = page.NextCursor
			churn(step)
		}
		for _, k := range stable {
			if seen[k] != 1 {
				t.Errorf("stable key %q appeared %d times", k, seen[k])
			}
		}
		for k, n := range seen {
			if n > 1 {
				t.Errorf("key %q appeared %d times", k, n)
			}
		}
	})

	t.Run("ConcurrentListAndWrite", func(t *testing.T) {
		s, ctx := b.open(t), ctxFor(t)
		var stable []string
		for i := range 30 {
			k := fmt.Sprintf("cc/s%02d", i)
			stable = append(stable, k)
			_, err := s.Put(ctx, k, []byte("s"), sdk.PutOptions{})
			noErr(t, err, "Put")
		}
		var stop atomic.Bool
		var wg sync.WaitGroup
		for w := range 2 {
			wg.Go(func() {
				for i := 0; !stop.Load(); i++ {
					k := fmt.Sprintf("cc/s%02d-%d-%d", i%30, w, i%3)
					if i%2 == 0 {
						_, _ = s.Put(ctx, k, []byte("c"), sdk.PutOptions{})
					} else {
						_ = s.Delete(ctx, k, sdk.DeleteOptions{})
					}
				}
			})
		}
		for range 5 {
			got := listAll(t, s, sdk.ListOptions{Prefix: "cc/", Limit: 4})
			count := map[string]int{}
			for _, k := range got {
				count[k]++
			}
			for _, k := range stable {
				if count[k] != 1 {
					t.Errorf("stable key %q listed %d times during concurrent writes", k, count[k])
				}
			}
		}
		stop.Store(true)
		wg.Wait()
	})
}

func (b *blobSuite) versions(t *testing.T) {
	s, ctx := b.open(t), ctxFor(t)
	if !s.Capabilities().Versions {
		t.Skip("store does not declare Capabilities.Versions")
	}
	v, ok := s.(sdk.Versioned)
	if !ok {
		t.Fatalf("store declares Capabilities.Versions but %T does not implement sdk.Versioned", s)
	}
	var etags []string
	contents := []string{"v1", "v2", "v3"}
	for _, c := range contents {
		m, err := s.Put(ctx, "doc", []byte(c), sdk.PutOptions{})
		noErr(t, err, "Put")
		etags = append(etags, m.ETag)
	}
	vs, err := v.Versions(ctx, "doc")
	noErr(t, err, "Versions")
	if len(vs) < 2 {
		t.Fatalf("Versions after three writes lists %d versions, want at least 2", len(vs))
	}
	ids := map[string]bool{}
	var got []string
	for _, ver := range vs {
		if ids[ver.ID] {
			t.Errorf("version id %q listed twice", ver.ID)
		}
		ids[ver.ID] = true
		data, _, err := v.GetVersion(ctx, "doc", ver.ID)
		noErr(t, err, "GetVersion "+ver.ID)
		got = append(got, string(data))
		if ver.Meta.Size != int64(len(data)) {
			t.Errorf("version %q: Meta.Size %d for %d bytes", ver.ID, ver.Meta.Size, len(data))
		}
	}
	// Newest first: the versions are v3, v2, v1 or v2, v1 (when the current
	// blob is not listed), possibly cut short by retention.
	newestFirst := []string{"v3", "v2", "v1"}
	okOrder := slices.Equal(got, newestFirst[:min(len(got), 3)]) ||
		(len(got) <= 2 && slices.Equal(got, newestFirst[1:1+len(got)]))
	if !okOrder {
		t.Errorf("versions hold %q, want newest first from %q", got, newestFirst)
	}
	_, _, err = v.GetVersion(ctx, "doc", "no-such-version")
	wantKind(t, err, sdk.ErrNotFound, "GetVersion of an unknown id")
	_, _, err = v.GetVersion(ctx, "other", vs[0].ID)
	wantKind(t, err, sdk.ErrNotFound, "GetVersion of another key's version id")
}
