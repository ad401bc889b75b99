package crypt

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/vire-dev/vire/sdk"
)

type wycheproofFile struct {
	TestGroups []struct {
		KeySize int `json:"keySize"`
		IVSize  int `json:"ivSize"`
		TagSize int `json:"tagSize"`
		Tests   []struct {
			TcID    int    `json:"tcId"`
			Comment string `json:"comment"`
			Key     string `json:"key"`
			IV      string `json:"iv"`
			AAD     string `json:"aad"`
			Msg     string `json:"msg"`
			CT      string `json:"ct"`
			Tag     string `json:"tag"`
			Result  string `json:"result"`
		} `json:"tests"`
	} `json:"testGroups"`
}

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestWycheproofAESGCM runs the AES-256-GCM primitives this package uses
// (96-bit nonce, 128-bit tag) against Project Wycheproof.
func TestWycheproofAESGCM(t *testing.T) {
	raw, err := os.ReadFile("testdata/aes_gcm_test.json")
	if err != nil {
		t.Fatal(err)
	}
	var f wycheproofFile
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatal(err)
	}
	valid, invalid := 0, 0
	for _, g := range f.TestGroups {
		if g.KeySize != 256 || g.IVSize != 96 || g.TagSize != 128 {
			continue
		}
		for _, tc := range g.Tests {
			key, iv, aad := unhex(t, tc.Key), unhex(t, tc.IV), unhex(t, tc.AAD)
			msg, ct, tag := unhex(t, tc.Msg), unhex(t, tc.CT), unhex(t, tc.Tag)
			sealed := append(append([]byte(nil), ct...), tag...)
			a, err := newAEAD(key)
			if err != nil {
				t.Fatalf("tc %d: %v", tc.TcID, err)
			}
			switch tc.Result {
			case "valid":
				valid++
				if got := sealRaw(a, nil, iv, msg, aad); !bytes.Equal(got, sealed) {
					t.Errorf("tc %d (%s): seal = %x, want %x", tc.TcID, tc.Comment, got, sealed)
				}
				got, err := openRaw(a, iv, sealed, aad)
				if err != nil || !bytes.Equal(got, msg) {
					t.Errorf("tc %d (%s): open = %x, %v; want %x", tc.TcID, tc.Comment, got, err, msg)
				}
			case "invalid":
				invalid++
				got, err := openRaw(a, iv, sealed, aad)
				if err == nil || got != nil {
					t.Errorf("tc %d (%s): invalid vector opened: %x", tc.TcID, tc.Comment, got)
				} else if !errors.Is(err, ErrAuthFailed) {
					t.Errorf("tc %d: error %v, want ErrAuthFailed", tc.TcID, err)
				}
			default:
				t.Fatalf("tc %d: unexpected result %q", tc.TcID, tc.Result)
			}
		}
	}
	if valid == 0 || invalid == 0 {
		t.Fatalf("ran %d valid and %d invalid vectors; the file has no AES-256/96-bit-IV groups?", valid, invalid)
	}
	t.Logf("%d valid, %d invalid vectors", valid, invalid)
}

func TestHeaderRoundTrip(t *testing.T) {
	h := Header{Format: FormatVersion, ProviderID: "vault.main-1", DEKVersion: 0xfeedbeef}
	copy(h.Nonce[:], "0123456789ab")
	b := appendHeader(nil, &h)
	if len(b) != fixedHeader+len(h.ProviderID) {
		t.Fatalf("header is %d bytes, want %d", len(b), fixedHeader+len(h.ProviderID))
	}
	blob := append(b, make([]byte, TagSize)...)
	got, n, err := parseBlob(blob)
	if err != nil {
		t.Fatal(err)
	}
	if got != h || n != len(b) {
		t.Fatalf("parsed %+v (%d bytes), want %+v (%d)", got, n, h, len(b))
	}
	// The documented layout, byte by byte.
	want := "VIRE\x01\x0cvault.main-1\xfe\xed\xbe\xef0123456789ab"
	if string(b) != want {
		t.Fatalf("header bytes %q, want %q", b, want)
	}
}

func TestParseHeaderErrors(t *testing.T) {
	good := appendHeader(nil, &Header{Format: 1, ProviderID: "env", DEKVersion: 1})
	good = append(good, make([]byte, TagSize)...)
	with := func(i int, v byte) []byte {
		b := bytes.Clone(good)
		b[i] = v
		return b
	}
	tests := []struct {
		name string
		blob []byte
		want error
	}{
		{"empty", nil, ErrTruncated},
		{"magic prefix", []byte("VI"), ErrTruncated},
		{"plain json", []byte(`{"holdings":[]}`), ErrNotEncrypted},
		{"short garbage", []byte{0xff}, ErrNotEncrypted},
		{"lowercase magic", append([]byte("vire"), good[4:]...), ErrNotEncrypted},
		{"magic only", []byte("VIRE"), ErrTruncated},
		{"no id length", []byte("VIRE\x01"), ErrTruncated},
		{"format 0", with(4, 0), ErrUnknownFormat},
		{"format 2", with(4, 2), ErrUnknownFormat},
		{"id length 0", with(5, 0), ErrMalformed},
		{"id length 65", with(5, 65), ErrMalformed},
		{"id length past end", with(5, 64), ErrTruncated},
		{"id bad char", with(6, 'E'), ErrMalformed},
		{"dek version 0", append(append(bytes.Clone(good[:9]), 0, 0, 0, 0), good[13:]...), ErrMalformed},
		{"no tag", good[:len(good)-1], ErrTruncated},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseHeader(tc.blob)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if !errors.Is(err, sdk.ErrIntegrity) {
				t.Fatalf("err = %v does not match sdk.ErrIntegrity", err)
			}
		})
	}
	if _, err := ParseHeader(good); err != nil {
		t.Fatalf("good header: %v", err)
	}
}

func TestAdditionalDataIsInjective(t *testing.T) {
	h := []byte("H")
	pairs := [][2]string{{"ab", "c"}, {"a", "bc"}, {"abc", ""}, {"", "abc"}, {"a\x00\x00\x00\x01b", "c"}}
	seen := map[string][2]string{}
	for _, p := range pairs {
		k := string(additionalData(h, p[0], p[1]))
		if prev, ok := seen[k]; ok {
			t.Fatalf("%q and %q give the same AAD", prev, p)
		}
		seen[k] = p
	}
}

// FuzzOpen feeds arbitrary bytes to Open: it must never panic, and it may
// only succeed on exactly the blob that was sealed.
func FuzzOpen(f *testing.F) {
	ctx := context.Background()
	p := newEnvProvider(f, newMasterKey())
	e := newTestEnvelope(f, p, newMemKeyrings(), nil)
	plain := []byte(`{"ticker":"BHP.AU","units":100}`)
	sealed, err := e.Seal(ctx, "alice", "users/alice/holding/bhp", plain)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(sealed)
	f.Add(sealed[:len(sealed)-1])
	f.Add([]byte("VIRE\x01\x04test\x00\x00\x00\x02"))
	f.Add([]byte("VIRE"))
	f.Add([]byte{})
	f.Add([]byte(`{"a":1}`))
	f.Fuzz(func(t *testing.T, blob []byte) {
		got, err := e.Open(ctx, "alice", "users/alice/holding/bhp", blob)
		if err != nil {
			if got != nil {
				t.Fatalf("plaintext returned with error %v", err)
			}
			if !errors.Is(err, sdk.ErrIntegrity) {
				t.Fatalf("error %v is not an integrity error", err)
			}
			return
		}
		if !bytes.Equal(blob, sealed) || !bytes.Equal(got, plain) {
			t.Fatalf("opened a blob that was never sealed: %q", blob)
		}
	})
}

func TestErrorMessages(t *testing.T) {
	if !strings.Contains(ErrAuthFailed.Error(), "wrong tenant or key, or the blob was modified") {
		t.Fatalf("ErrAuthFailed says %q", ErrAuthFailed)
	}
}
