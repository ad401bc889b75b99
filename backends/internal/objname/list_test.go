package objname

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/vire-dev/vire/sdk"
)

// nameStore is a sorted set of object names with the full key kept beside
// overflow names, as S3 and GCS keep it in metadata. It serves pages of at
// most pageSize names, so regions and pages cross.
type nameStore struct {
	names    []string
	keys     map[string]string
	pageSize int
	lists    int
}

func newNameStore(c *Codec, keys []string, pageSize int) *nameStore {
	s := &nameStore{keys: map[string]string{}, pageSize: pageSize}
	for _, k := range keys {
		name, _ := c.Name(k)
		s.names = append(s.names, name)
		s.keys[name] = k
	}
	sort.Strings(s.names)
	return s
}

func (s *nameStore) ListNames(_ context.Context, prefix, startAfter string, limit int) ([]Object, bool, error) {
	s.lists++
	limit = min(limit, s.pageSize)
	i := sort.SearchStrings(s.names, startAfter)
	var out []Object
	for ; i < len(s.names); i++ {
		n := s.names[i]
		if n <= startAfter || !strings.HasPrefix(n, prefix) {
			continue
		}
		if len(out) == limit {
			return out, true, nil
		}
		out = append(out, Object{Name: n, Meta: sdk.Meta{Size: int64(len(s.keys[n]))}})
	}
	return out, false, nil
}

func (s *nameStore) Resolve(_ context.Context, o Object, p Parsed) (string, sdk.Meta, bool, error) {
	if p.Overflow {
		return s.keys[o.Name], o.Meta, true, nil
	}
	return p.Key, o.Meta, true, nil
}

func listEverything(t *testing.T, c *Codec, l Lister, prefix string, limit int) []string {
	t.Helper()
	var out []string
	o := sdk.ListOptions{Prefix: prefix, Limit: limit}
	for pages := 0; ; pages++ {
		if pages > 10000 {
			t.Fatal("listing does not end")
		}
		page, err := c.List(context.Background(), l, o)
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Items) > limit {
			t.Fatalf("page of %d items with limit %d", len(page.Items), limit)
		}
		for _, it := range page.Items {
			out = append(out, it.Key)
		}
		if page.NextCursor == "" {
			return out
		}
		o.Cursor = page.NextCursor
	}
}

// testKeys mixes short keys with long ones that share long heads, so that
// regions hold short, long and overflow keys together.
func testKeys(r *rand.Rand, c *Codec) []string {
	alphabet := []byte{0, 'a', 'b', 'A', '/', 0xff, '~', '-'}
	bases := []string{strings.Repeat("a", c.Head()-3), strings.Repeat("/", c.Head()/3), strings.Repeat("\xff", c.Head()/3-1), ""}
	seen := map[string]bool{}
	var keys []string
	for len(keys) < 400 {
		base := bases[r.IntN(len(bases))]
		n := r.IntN(8)
		if r.IntN(4) == 0 {
			n = r.IntN(1100 - len(base))
		}
		b := []byte(base)
		for range n {
			b = append(b, alphabet[r.IntN(len(alphabet))])
		}
		k := string(b)
		if k == "" || len(k) > sdk.MaxKeyLength || seen[k] {
			continue
		}
		seen[k] = true
		keys = append(keys, k)
	}
	return keys
}

func TestListMatchesSortedKeys(t *testing.T) {
	for seed := range uint64(6) {
		r := rand.New(rand.NewPCG(seed, 42))
		c, err := NewCodec(fmt.Sprintf("p%d/", seed), MaxName)
		if err != nil {
			t.Fatal(err)
		}
		keys := testKeys(r, c)
		want := slices.Clone(keys)
		slices.Sort(want)
		store := newNameStore(c, keys, 1+r.IntN(7))
		var overflow int
		for _, k := range keys {
			if _, o := c.Name(k); o {
				overflow++
			}
		}
		if overflow == 0 {
			t.Fatalf("seed %d: no overflow keys; the test proves nothing", seed)
		}
		for _, limit := range []int{1, 3, 50, 1000} {
			got := listEverything(t, c, store, "", limit)
			if !slices.Equal(got, want) {
				missing, extra := diffKeys(want, got)
				t.Fatalf("seed %d limit %d: %d keys listed, want %d; missing %d, extra %d",
					seed, limit, len(got), len(want), len(missing), len(extra))
			}
		}
		for _, prefix := range []string{"a", strings.Repeat("a", c.Head()), strings.Repeat("a", c.Head()+10), "/", "\xff", "\x00", "zz"} {
			var exp []string
			for _, k := range want {
				if strings.HasPrefix(k, prefix) {
					exp = append(exp, k)
				}
			}
			got := listEverything(t, c, store, prefix, 4)
			if !slices.Equal(got, exp) {
				t.Fatalf("seed %d prefix %d bytes: %d keys, want %d", seed, len(prefix), len(got), len(exp))
			}
		}
	}
}

func TestListBadCursor(t *testing.T) {
	c, _ := NewCodec("", MaxName)
	_, err := c.List(context.Background(), newNameStore(c, nil, 10), sdk.ListOptions{Cursor: "not a cursor"})
	if err == nil || !strings.Contains(err.Error(), sdk.ErrInvalidArgument.Error()) {
		t.Fatalf("bad cursor: %v", err)
	}
}

func TestListSkipsForeignNames(t *testing.T) {
	c, _ := NewCodec("ns/", MaxName)
	s := newNameStore(c, []string{"a", "b"}, 10)
	s.names = append(s.names, "ns/UPPER", "ns/a-2", "ns/zz")
	sort.Strings(s.names)
	got := listEverything(t, c, s, "", 10)
	if !slices.Equal(got, []string{"a", "b"}) {
		t.Fatalf("got %q", got)
	}
}

func diffKeys(want, got []string) (missing, extra []string) {
	w := map[string]bool{}
	for _, k := range want {
		w[k] = true
	}
	g := map[string]bool{}
	for _, k := range got {
		g[k] = true
		if !w[k] {
			extra = append(extra, k)
		}
	}
	for _, k := range want {
		if !g[k] {
			missing = append(missing, k)
		}
	}
	return
}
