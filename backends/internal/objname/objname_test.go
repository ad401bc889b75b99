package objname

import (
	"bytes"
	"strings"
	"testing"
)

func TestEncodeTable(t *testing.T) {
	for _, tc := range []struct{ key, enc string }{
		{"abc09", "abc09"},
		{"a/b", "a-2Fb"},
		{"A", "_41"},
		{"\x00", "-00"},
		{"\xff", "~FF"},
		{"_", "_5F"},
		{"~", "~7E"},
		{"-", "-2D"},
		{"users/alice/strategy/main", "users-2Falice-2Fstrategy-2Fmain"},
	} {
		if got := Encode(tc.key); got != tc.enc {
			t.Errorf("Encode(%q) = %q, want %q", tc.key, got, tc.enc)
		}
		if got, err := Decode(tc.enc); err != nil || got != tc.key {
			t.Errorf("Decode(%q) = %q, %v; want %q", tc.enc, got, err, tc.key)
		}
	}
}

func TestDecodeRejectsNonCanonical(t *testing.T) {
	for _, s := range []string{"A", "-", "-2", "-3A", "_30", "_61", "~7A", "-2f", "/", "!", "~~", "a~", "-GG"} {
		if k, err := Decode(s); err == nil {
			t.Errorf("Decode(%q) = %q, want an error", s, k)
		}
	}
}

// checkPair asserts the encoding's two promises for one pair of keys.
func checkPair(t *testing.T, a, b string) {
	t.Helper()
	ea, eb := Encode(a), Encode(b)
	if got, want := strings.Compare(ea, eb), strings.Compare(a, b); got != want {
		t.Fatalf("order of %q, %q is %d but of their encodings %q, %q is %d", a, b, want, ea, eb, got)
	}
	if strings.HasPrefix(b, a) != strings.HasPrefix(eb, ea) {
		t.Fatalf("prefix relation of %q, %q not kept by %q, %q", a, b, ea, eb)
	}
}

func TestEncodeEveryBytePair(t *testing.T) {
	for x := range 256 {
		for y := range 256 {
			checkPair(t, string([]byte{byte(x)}), string([]byte{byte(y)}))
			checkPair(t, string([]byte{byte(x)}), string([]byte{byte(x), byte(y)}))
		}
	}
}

func FuzzEncode(f *testing.F) {
	for _, s := range []string{"", "a", "a/b", "\x00\xff", "A_~-", strings.Repeat("z", 40)} {
		f.Add(s, s+"x")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		checkPair(t, a, b)
		for _, k := range []string{a, b} {
			got, err := Decode(Encode(k))
			if err != nil || got != k {
				t.Fatalf("round trip of %q gave %q, %v", k, got, err)
			}
		}
	})
}

func FuzzDecode(f *testing.F) {
	for _, s := range []string{"", "a", "-2F", "_41", "~FF", "-", "~~"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k, err := Decode(s)
		if err == nil && Encode(k) != s {
			t.Fatalf("Decode(%q) = %q, which encodes to %q: two encodings for one key", s, k, Encode(k))
		}
	})
}

func TestNamesFitAndParse(t *testing.T) {
	for _, prefix := range []string{"", "tenant-data/", strings.Repeat("p", 300) + "/"} {
		c, err := NewCodec(prefix, MaxName)
		if err != nil {
			t.Fatal(err)
		}
		keys := []string{"a", "a/b", strings.Repeat("a", 1024), strings.Repeat("\xff", 1024), strings.Repeat("/", 1024),
			strings.Repeat("a", c.Head()), strings.Repeat("a", c.Head()+1), strings.Repeat("b", c.content-1), strings.Repeat("b", c.content)}
		for _, k := range keys {
			name, overflow := c.Name(k)
			if len(name) > MaxName {
				t.Errorf("prefix %d bytes: name of %d-byte key is %d bytes", len(prefix), len(k), len(name))
			}
			for _, seg := range strings.Split(strings.TrimPrefix(name, prefix), "/") {
				if len(seg) == 0 || len(seg) > SegmentLength {
					t.Errorf("segment of %d bytes in %q", len(seg), name)
				}
			}
			p, err := c.Parse(name)
			if err != nil {
				t.Fatalf("Parse(Name(%d-byte key)): %v", len(k), err)
			}
			if p.Overflow != overflow {
				t.Errorf("%d-byte key: Parse says overflow=%v, Name said %v", len(k), p.Overflow, overflow)
			}
			if !overflow && p.Key != k {
				t.Errorf("Parse(Name(%q)) = %q", k, p.Key)
			}
			if wantRegion := len(Encode(k)) > c.Head(); (p.Region != "") != wantRegion {
				t.Errorf("%d-byte key: region %q, want region=%v", len(k), p.Region, wantRegion)
			}
		}
	}
}

func TestLongPrefixRefused(t *testing.T) {
	if _, err := NewCodec(strings.Repeat("p", 800), MaxName); err == nil {
		t.Error("an 800-byte prefix was accepted")
	}
	if _, err := NewCodec("a\x00", MaxName); err == nil {
		t.Error("a prefix with NUL was accepted")
	}
}

// TestNoNameIsAnotherNamesDirectory: a posix gateway stores a/b as a file b
// in directory a, so no name may equal a '/'-bounded prefix of another.
func TestNoNameIsAnotherNamesDirectory(t *testing.T) {
	c, _ := NewCodec("", MaxName)
	names := map[string]bool{}
	var keys []string
	for n := SegmentLength - 5; n < SegmentLength+5; n++ {
		keys = append(keys, strings.Repeat("q", n), strings.Repeat("q", n)+"r")
	}
	for _, k := range keys {
		name, _ := c.Name(k)
		names[name] = true
	}
	for name := range names {
		for i := range len(name) {
			if name[i] == '/' && names[name[:i]] {
				t.Errorf("name %q is the directory of %q", name[:i], name)
			}
		}
	}
}

func TestMetaValueAndCursor(t *testing.T) {
	for _, k := range []string{"a", "\x00\xff", strings.Repeat("\xff", 1024)} {
		v := MetaValue(k)
		if !isASCIIPrintable(v) {
			t.Errorf("MetaValue(%q) = %q is not printable ASCII", k, v)
		}
		if got, err := ParseMetaValue(v); err != nil || got != k {
			t.Errorf("ParseMetaValue(MetaValue(%q)) = %q, %v", k, got, err)
		}
		if got, err := ParseCursor(Cursor(k)); err != nil || got != k {
			t.Errorf("ParseCursor(Cursor(%q)) = %q, %v", k, got, err)
		}
	}
	for _, bad := range []string{"", "k", "x61", "k-"} {
		if _, err := ParseCursor(bad); err == nil {
			t.Errorf("ParseCursor(%q) succeeded", bad)
		}
	}
}

func isASCIIPrintable(s string) bool {
	return bytes.IndexFunc([]byte(s), func(r rune) bool { return r < 0x21 || r > 0x7e }) < 0
}

// FuzzParse: names come from the store, which other programs may write to.
// Parse must never panic, and any name it accepts as a key's must be
// exactly that key's name.
func FuzzParse(f *testing.F) {
	c, _ := NewCodec("p/", MaxName)
	for _, k := range []string{"a", "a/b", strings.Repeat("\xff", 400), strings.Repeat("z", 1020)} {
		n, _ := c.Name(k)
		f.Add(n)
	}
	f.Add("p/")
	f.Add("p/" + segment(strings.Repeat("z", 1100)+"!"))
	f.Add("p/!")
	f.Add("p/~~!")
	f.Fuzz(func(t *testing.T, name string) {
		p, err := c.Parse(name)
		if err != nil {
			return
		}
		if p.Overflow {
			if len(p.Region) != c.Head() {
				t.Fatalf("overflow name %q with region of %d", name, len(p.Region))
			}
			return
		}
		if back, _ := c.Name(p.Key); back != name {
			t.Fatalf("Parse(%q) = key %q, whose name is %q", name, p.Key, back)
		}
	})
}
