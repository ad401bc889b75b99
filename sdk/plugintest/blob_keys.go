package plugintest

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/vire-dev/vire/sdk"
)

// weirdKeys returns keys that break naive stores: path tricks, separators,
// escapes, control bytes, invalid UTF-8, case and normalisation twins,
// names a store might use internally, and keys of exactly MaxKeyLength bytes.
// Every key is distinct, so every key must round-trip to its own blob.
func weirdKeys() []string {
	keys := []string{
		"..", ".", "../", "./", "../x", "../../etc/passwd", "a/../b", "a/./b", "a/..", "a/.",
		"/", "//", "///", "/a", "a/", "a//b", "//a", "a/b/", "b", "a/b",
		`\`, `\\`, `a\b`, `..\x`, `a\..\b`, `C:\x`, "C:", "con", "NUL", "aux.txt",
		"%", "%%", "%2F", "a%2Fb", "%25", "%2e%2e", "a%00b", "~", "a~", "~a", "+", "a+b", "a b", " ", "a ",
		"a.", "a..", ".a", ".tmp", ".lock", ".meta", "a.tmp", "a.meta", "a.json", "a.blob", "a.vire",
		"a.vire/b", ".vire", ".vire/x", "tmp", "_", "-", "=", "a=b", "#", "?", "*", "a*", "[a]", "a:b", "a|b", "\"", "'",
		"\x00", "a\x00", "\x00a", "a\x00b", "a\x00/b", "\t", "\n", "\r\n", "a\nb", "\x7f", "\x1b[31m",
		"\xff", "\xfe\xff", "\xc3\x28", "a\x80b", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xc0\xaf", "\xe0\x80\xaf",
		"Case", "case", "CASE", "cASE", "\u00e9", "e\u0301", "\u00c5", "\u212b", "A\u030a", "\ufb01", "fi", "\u0130", "i\u0307", "\u00df", "ss",
		"日本語/キー", "emoji/😀", "\u202e", "\ufeff", "a\u200bb",
	}
	for b := range 128 {
		keys = append(keys, string([]byte{byte(b)}), "x"+string([]byte{byte(b)})+"y")
	}
	n := sdk.MaxKeyLength
	keys = append(keys,
		strings.Repeat("a", n), strings.Repeat("a", n-1)+"b", strings.Repeat("a", n-1),
		strings.Repeat("/", n), strings.Repeat("/", n-1)+"a",
		strings.Repeat(".", n), strings.Repeat("../", n/3)+strings.Repeat("x", n%3),
		strings.Repeat("\xff", n), strings.Repeat("\x00", n), strings.Repeat("%", n),
		strings.Repeat("ab/", n/3)+strings.Repeat("c", n%3),
		strings.Repeat("a/", n/2), strings.Repeat("é", n/2),
		strings.Repeat("Z", n), strings.Repeat("z", n),
	)
	return uniq(keys)
}

func uniq(keys []string) []string {
	seen := map[string]bool{}
	out := keys[:0]
	for _, k := range keys {
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	return out
}

func (b *blobSuite) keys(t *testing.T) {
	t.Run("WeirdKeysRoundTripWithoutCollisions", func(t *testing.T) {
		s, ctx := b.open(t), ctxFor(t)
		keys := weirdKeys()
		content := func(i int) []byte { return fmt.Appendf(nil, "blob %d for key %q", i, keys[i]) }
		for i, k := range keys {
			if len(k) > sdk.MaxKeyLength {
				t.Fatalf("suite bug: key %d is %d bytes", i, len(k))
			}
			if _, err := s.Put(ctx, k, content(i), sdk.PutOptions{ContentType: "text/plain"}); err != nil {
				t.Fatalf("Put key %d %q (%d bytes): %v", i, clip(k), len(k), err)
			}
		}
		failures := 0
		for i, k := range keys {
			got, m, err := s.Get(ctx, k)
			switch {
			case err != nil:
				t.Errorf("Get key %d %q: %v", i, clip(k), err)
			case !bytes.Equal(got, content(i)):
				t.Errorf("key %d %q holds %q: another key's write landed on it", i, clip(k), clip(string(got)))
			case m.Size != int64(len(got)):
				t.Errorf("key %d %q: Meta.Size %d for %d bytes", i, clip(k), m.Size, len(got))
			default:
				continue
			}
			if failures++; failures >= maxFailures {
				t.Fatalf("stopping after %d failures", failures)
			}
		}

		listed := listAll(t, s, sdk.ListOptions{Limit: 100})
		want := slices.Clone(keys)
		slices.Sort(want)
		if !slices.Equal(listed, want) {
			missing, extra := diff(want, listed)
			t.Errorf("List returned %d keys, want %d; missing %q; unexpected %q",
				len(listed), len(want), clipAll(missing), clipAll(extra))
		}

		// Each key is its own listing prefix; a prefix listing must return
		// the key and only keys that really start with it.
		for _, k := range []string{"..", "a", "a/", "%", "\x00", "\xff", "/", `\`, "x\x00"} {
			got := listAll(t, s, sdk.ListOptions{Prefix: k})
			var exp []string
			for _, w := range want {
				if strings.HasPrefix(w, k) {
					exp = append(exp, w)
				}
			}
			if !slices.Equal(got, exp) {
				missing, extra := diff(exp, got)
				t.Errorf("List prefix %q: missing %q; unexpected %q", clip(k), clipAll(missing), clipAll(extra))
			}
		}

		for i, k := range keys {
			if i%2 == 1 {
				continue
			}
			if err := s.Delete(ctx, k, sdk.DeleteOptions{}); err != nil {
				t.Errorf("Delete key %d %q: %v", i, clip(k), err)
			}
		}
		for i, k := range keys {
			_, err := s.Stat(ctx, k)
			if i%2 == 0 {
				wantKind(t, err, sdk.ErrNotFound, fmt.Sprintf("Stat of deleted key %d %q", i, clip(k)))
			} else if err != nil {
				t.Errorf("deleting other keys lost key %d %q: %v", i, clip(k), err)
			}
		}
	})

	t.Run("WeirdKeysStream", func(t *testing.T) {
		s, ctx := b.open(t), ctxFor(t)
		for i, k := range []string{"../escape", "\x00", "\xff/\xfe", strings.Repeat("/", sdk.MaxKeyLength), "a\\..\\..\\b"} {
			data := fmt.Appendf(nil, "streamed %d", i)
			_, err := s.PutReader(ctx, k, bytes.NewReader(data), int64(len(data)), sdk.PutOptions{})
			noErr(t, err, fmt.Sprintf("PutReader %q", clip(k)))
			rc, _, err := s.GetReader(ctx, k)
			noErr(t, err, fmt.Sprintf("GetReader %q", clip(k)))
			got, err := io.ReadAll(rc)
			rc.Close()
			noErr(t, err, "reading")
			if !bytes.Equal(got, data) {
				t.Errorf("key %q streamed back %q, want %q", clip(k), got, data)
			}
		}
	})
}

// listAll pages through a listing and fails the test on duplicates, order
// violations or a listing that does not end.
func listAll(t *testing.T, s sdk.BlobStore, o sdk.ListOptions) []string {
	t.Helper()
	var out []string
	for pages := 0; ; pages++ {
		if pages > 100000 {
			t.Fatalf("List prefix %q never returned an empty NextCursor", clip(o.Prefix))
		}
		page, err := s.List(ctxFor(t), o)
		if err != nil {
			t.Fatalf("List prefix %q cursor %q: %v", clip(o.Prefix), clip(o.Cursor), err)
		}
		if o.Limit > 0 && len(page.Items) > o.Limit {
			t.Errorf("List returned %d items with Limit %d", len(page.Items), o.Limit)
		}
		for _, it := range page.Items {
			if n := len(out); n > 0 && it.Key <= out[n-1] {
				t.Fatalf("List returned %q after %q: not in ascending byte order or repeated", clip(it.Key), clip(out[n-1]))
			}
			if !strings.HasPrefix(it.Key, o.Prefix) {
				t.Errorf("List prefix %q returned %q", clip(o.Prefix), clip(it.Key))
			}
			out = append(out, it.Key)
		}
		if page.NextCursor == "" {
			return out
		}
		if page.NextCursor == o.Cursor {
			t.Fatalf("List returned its own cursor %q again", clip(o.Cursor))
		}
		o.Cursor = page.NextCursor
	}
}

// diff returns what want has that got lacks, and what got has that want lacks.
func diff(want, got []string) (missing, extra []string) {
	w, g := map[string]bool{}, map[string]bool{}
	for _, k := range want {
		w[k] = true
	}
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
	return missing, extra
}

// clip shortens long keys in messages.
func clip(s string) string {
	if len(s) > 40 {
		return fmt.Sprintf("%s…(%d bytes)", s[:32], len(s))
	}
	return s
}

func clipAll(keys []string) []string {
	if len(keys) > 10 {
		keys = keys[:10]
	}
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = clip(k)
	}
	return out
}
