package keyconfig

import (
	"bytes"
	"encoding/base64"
	"testing"
)

func TestStringList(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   any
		want []string
		ok   bool
	}{
		{"missing", nil, nil, true},
		{"strings", []string{"a", "b"}, []string{"a", "b"}, true},
		{"from the wire", []any{"a", "b"}, []string{"a", "b"}, true},
		{"empty from the wire", []any{}, []string{}, true},
		{"a number inside", []any{"a", 1.0}, nil, false},
		{"a bare string", "a", nil, false},
		{"a number", 3.0, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := StringList(tc.in)
			if ok != tc.ok || len(got) != len(tc.want) {
				t.Fatalf("StringList(%#v) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("element %d = %q, want %q", i, got[i], tc.want[i])
				}
			}
		})
	}
}

func TestBase64(t *testing.T) {
	// 0xfb 0xff yields both '+'/'/' and '-'/'_' depending on the alphabet,
	// and two bytes need padding.
	raw := []byte{0xfb, 0xff, 0x00, 0xfb, 0xef}
	for name, s := range map[string]string{
		"standard":          base64.StdEncoding.EncodeToString(raw),
		"standard unpadded": base64.RawStdEncoding.EncodeToString(raw),
		"url":               base64.URLEncoding.EncodeToString(raw),
		"url unpadded":      base64.RawURLEncoding.EncodeToString(raw),
	} {
		if got, ok := Base64(s); !ok || !bytes.Equal(got, raw) {
			t.Errorf("%s %q: got %x, %v", name, s, got, ok)
		}
	}
	for _, s := range []string{
		"not base64!!",
		"+-==",  // two alphabets mixed
		"YQ=",   // short padding
		"YR==",  // non-zero trailing bits, which Strict rejects
		"Y",     // one character is never a whole byte
		"YQ==Y", // data after padding
	} {
		if got, ok := Base64(s); ok {
			t.Errorf("Base64(%q) = %x, want rejected", s, got)
		}
	}
}

// FuzzBase64 checks the claim Base64 rests on: any alphabet that accepts a
// string decodes it to the bytes Base64 returns.
func FuzzBase64(f *testing.F) {
	for _, s := range []string{"", "YQ==", "YQ", "-_8", "+/8=", "AAAA", "a b\n", "++//--__"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := Base64(s)
		for _, enc := range []*base64.Encoding{
			base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding,
		} {
			b, err := enc.Strict().DecodeString(s)
			if err != nil {
				continue
			}
			if !ok || !bytes.Equal(b, got) {
				t.Fatalf("%q: an alphabet decodes %x, Base64 gave %x, %v", s, b, got, ok)
			}
		}
	})
}
