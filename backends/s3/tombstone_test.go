package s3

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/vire-dev/vire/sdk"
)

func TestTombstoneForm(t *testing.T) {
	a, b := newTombstone(), newTombstone()
	if a == b {
		t.Fatal("two tombstones have the same content")
	}
	nonce := strings.Repeat("0123456789abcdef", 2)
	for _, tc := range []struct {
		name string
		in   string
		want bool
	}{
		{"fresh", a, true},
		{"another", b, true},
		{"hex nonce", tombstonePrefix + nonce + "\n", true},
		{"legacy", legacyTombstone, true},
		{"legacy without newline", strings.TrimSuffix(legacyTombstone, "\n") + " ", false},
		{"upper-case nonce", tombstonePrefix + strings.ToUpper(nonce) + "\n", false},
		{"not hex", tombstonePrefix + strings.Repeat("g", tombstoneNonceLen) + "\n", false},
		{"no newline", tombstonePrefix + nonce + "0", false},
		{"short", tombstonePrefix + nonce[1:] + "\n", false},
		{"long", tombstonePrefix + nonce + "0\n", false},
		{"other prefix", "x" + tombstonePrefix[1:] + nonce + "\n", false},
		{"same size", strings.Repeat("x", tombstoneSize), false},
		{"empty", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := isTombstoneContent([]byte(tc.in)); got != tc.want {
				t.Errorf("isTombstoneContent(%q) = %v, want %v", tc.in, got, tc.want)
			}
			if err := refuseReserved([]byte(tc.in)); (err != nil) != tc.want {
				t.Errorf("refuseReserved(%q) = %v", tc.in, err)
			}
		})
	}
}

// TestLegacyTombstone: a tombstone of the fixed content earlier versions
// wrote, with or without its marker, still reads as absent, is skipped by
// List and gives way to a create.
func TestLegacyTombstone(t *testing.T) {
	g := startGateway(t)
	s := open(t, g, nil)
	ctx := t.Context()
	c, _ := s.cur.Get()
	for _, md := range []map[string]string{{metaTombstone: "1"}, nil} {
		name, _ := c.codec.Name("old")
		if _, err := g.raw().PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(g.bucket), Key: aws.String(name),
			Body: strings.NewReader(legacyTombstone), Metadata: md}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Stat(ctx, "old"); !errors.Is(err, sdk.ErrNotFound) {
			t.Errorf("metadata %v: Stat: %v, want ErrNotFound", md, err)
		}
		if _, _, err := s.Get(ctx, "old"); !errors.Is(err, sdk.ErrNotFound) {
			t.Errorf("metadata %v: Get: %v, want ErrNotFound", md, err)
		}
		if page, err := s.List(ctx, sdk.ListOptions{}); err != nil || len(page.Items) != 0 {
			t.Errorf("metadata %v: List: %v, %v", md, page.Items, err)
		}
		m, err := s.Put(ctx, "old", []byte("new"), sdk.PutOptions{IfNoneMatch: "*"})
		if err != nil {
			t.Fatalf("metadata %v: create over a legacy tombstone: %v", md, err)
		}
		if err := s.Delete(ctx, "old", sdk.DeleteOptions{IfMatch: m.ETag}); err != nil {
			t.Fatal(err)
		}
	}
}

// TestTombstonesAreUnique: two conditional deletes of the same blob leave
// tombstones with different ETags, so an If-Match on an earlier one never
// matches a later one.
func TestTombstonesAreUnique(t *testing.T) {
	g := startGateway(t)
	s := open(t, g, nil)
	ctx := t.Context()
	c, _ := s.cur.Get()
	name, _ := c.codec.Name("k")
	var etags []string
	for range 2 {
		m, err := s.Put(ctx, "k", []byte("same bytes"), sdk.PutOptions{IfNoneMatch: "*"})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Delete(ctx, "k", sdk.DeleteOptions{IfMatch: m.ETag}); err != nil {
			t.Fatal(err)
		}
		h, err := g.raw().HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(g.bucket), Key: aws.String(name)})
		if err != nil || h.Metadata[metaTombstone] == "" {
			t.Fatalf("no tombstone: %v, %v", h, err)
		}
		etags = append(etags, unquote(aws.ToString(h.ETag)))
	}
	if etags[0] == etags[1] {
		t.Fatalf("both tombstones have ETag %s", etags[0])
	}
	if _, err := s.Put(ctx, "k", []byte("v"), sdk.PutOptions{IfMatch: etags[0]}); !errors.Is(err, sdk.ErrPrecondition) {
		t.Errorf("If-Match on the first tombstone's ETag: %v, want ErrPrecondition", err)
	}
}

// TestCreateRefusesAnOlderETag replays, through a proxy in front of the
// gateway, the interleaving that once let a create overwrite a live blob:
// the create's probe reads a tombstone's content with the ETag of the blob
// it replaced (versitygw reads the ETag before it opens the file), and the
// blob's owner writes the same bytes again before the create's If-Match.
// The create must lose.
func TestCreateRefusesAnOlderETag(t *testing.T) {
	g := startGateway(t)
	target, err := url.Parse(g.endpoint)
	if err != nil {
		t.Fatal(err)
	}
	var forge atomic.Pointer[string] // the ETag to put on the next ranged GET
	var owner atomic.Pointer[string] // the object the owner writes again
	var hookErr atomic.Pointer[error]
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.ModifyResponse = func(resp *http.Response) error {
		if resp.Request.Method != http.MethodGet || resp.Request.Header.Get("Range") == "" {
			return nil
		}
		etag := forge.Swap(nil)
		if etag == nil {
			return nil
		}
		// The owner's create replaces the tombstone this response holds.
		_, err := g.raw().PutObject(resp.Request.Context(), &s3.PutObjectInput{
			Bucket: aws.String(g.bucket), Key: owner.Load(), Body: strings.NewReader("owner 2"),
			IfMatch: aws.String(resp.Header.Get("ETag")),
		})
		if err != nil {
			hookErr.Store(&err)
		}
		resp.Header.Set("ETag", quote(*etag))
		return nil
	}
	srv := httptest.NewServer(proxy)
	t.Cleanup(srv.Close)

	s := open(t, g, sdk.ConfigValue{"endpoint": srv.URL})
	ctx := t.Context()
	c, _ := s.cur.Get()
	name, _ := c.codec.Name("lock")
	owner.Store(&name)
	m, err := s.Put(ctx, "lock", []byte("owner 2"), sdk.PutOptions{IfNoneMatch: "*"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "lock", sdk.DeleteOptions{IfMatch: m.ETag}); err != nil {
		t.Fatal(err)
	}
	forge.Store(&m.ETag)
	if _, err := s.Put(ctx, "lock", []byte("owner 5"), sdk.PutOptions{IfNoneMatch: "*"}); !errors.Is(err, sdk.ErrPrecondition) {
		t.Errorf("create while the owner's blob is live: %v, want ErrPrecondition", err)
	}
	if forge.Load() != nil {
		t.Fatal("the create never probed the tombstone")
	}
	if p := hookErr.Load(); p != nil {
		t.Fatalf("the owner's create: %v", *p)
	}
	got, gm, err := s.Get(ctx, "lock")
	if err != nil || string(got) != "owner 2" || gm.ETag != m.ETag {
		t.Errorf("Get = %q, %s, %v; want the owner's blob", got, gm.ETag, err)
	}
	if err := s.Delete(ctx, "lock", sdk.DeleteOptions{IfMatch: m.ETag}); err != nil {
		t.Errorf("the owner's delete: %v", err)
	}
}
