package kek

import (
	"bytes"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"testing"
)

// The Wycheproof vectors check the two primitives the ring is built on:
// hkdf.Key with SHA-256 (as Ring.aead calls it) and AES-GCM with 96-bit
// nonces (as newAEAD builds it).

type hexBytes []byte

func (h *hexBytes) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	d, err := hex.DecodeString(s)
	*h = d
	return err
}

func loadVectors(t *testing.T, name string, v any) {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

func TestWycheproofHKDFSHA256(t *testing.T) {
	var file struct {
		Algorithm  string `json:"algorithm"`
		TestGroups []struct {
			Tests []struct {
				TcID   int      `json:"tcId"`
				IKM    hexBytes `json:"ikm"`
				Salt   hexBytes `json:"salt"`
				Info   hexBytes `json:"info"`
				Size   int      `json:"size"`
				OKM    hexBytes `json:"okm"`
				Result string   `json:"result"`
			} `json:"tests"`
		} `json:"testGroups"`
	}
	loadVectors(t, "hkdf_sha256_test.json", &file)
	if file.Algorithm != "HKDF-SHA-256" {
		t.Fatalf("vector file is for %q", file.Algorithm)
	}
	ran := 0
	for _, g := range file.TestGroups {
		for _, tc := range g.Tests {
			ran++
			okm, err := hkdf.Key(sha256.New, tc.IKM, tc.Salt, string(tc.Info), tc.Size)
			switch tc.Result {
			case "valid":
				if err != nil || !bytes.Equal(okm, tc.OKM) {
					t.Errorf("tcId %d: got %x, %v; want %x", tc.TcID, okm, err, tc.OKM)
				}
			case "invalid":
				if err == nil {
					t.Errorf("tcId %d: invalid vector (size %d) produced output", tc.TcID, tc.Size)
				}
			default:
				t.Errorf("tcId %d: unexpected result %q", tc.TcID, tc.Result)
			}
		}
	}
	if ran < 50 {
		t.Fatalf("only %d vectors ran", ran)
	}
}

func TestWycheproofAESGCM(t *testing.T) {
	var file struct {
		Algorithm  string `json:"algorithm"`
		TestGroups []struct {
			IVSize  int `json:"ivSize"`
			KeySize int `json:"keySize"`
			TagSize int `json:"tagSize"`
			Tests   []struct {
				TcID   int      `json:"tcId"`
				Key    hexBytes `json:"key"`
				IV     hexBytes `json:"iv"`
				AAD    hexBytes `json:"aad"`
				Msg    hexBytes `json:"msg"`
				CT     hexBytes `json:"ct"`
				Tag    hexBytes `json:"tag"`
				Result string   `json:"result"`
			} `json:"tests"`
		} `json:"testGroups"`
	}
	loadVectors(t, "aes_gcm_test.json", &file)
	if file.Algorithm != "AES-GCM" {
		t.Fatalf("vector file is for %q", file.Algorithm)
	}
	ran, ran256 := 0, 0
	for _, g := range file.TestGroups {
		// The ring only ever uses 96-bit nonces and 128-bit tags.
		if g.IVSize != 8*nonceSize || g.TagSize != 8*tagSize {
			continue
		}
		for _, tc := range g.Tests {
			ran++
			if g.KeySize == 256 {
				ran256++
			}
			aead, err := newAEAD(tc.Key)
			if err != nil {
				t.Errorf("tcId %d: %v", tc.TcID, err)
				continue
			}
			sealed := append(bytes.Clone(tc.CT), tc.Tag...)
			opened, openErr := aead.Open(nil, tc.IV, sealed, tc.AAD)
			switch tc.Result {
			case "valid":
				if got := aead.Seal(nil, tc.IV, tc.Msg, tc.AAD); !bytes.Equal(got, sealed) {
					t.Errorf("tcId %d: Seal = %x, want %x", tc.TcID, got, sealed)
				}
				if openErr != nil || !bytes.Equal(opened, tc.Msg) {
					t.Errorf("tcId %d: Open = %x, %v; want %x", tc.TcID, opened, openErr, tc.Msg)
				}
			case "invalid":
				if openErr == nil {
					t.Errorf("tcId %d: Open accepted an invalid ciphertext", tc.TcID)
				}
			default:
				t.Errorf("tcId %d: unexpected result %q", tc.TcID, tc.Result)
			}
		}
	}
	if ran < 150 || ran256 < 50 {
		t.Fatalf("only %d vectors (%d with 256-bit keys) ran", ran, ran256)
	}
}
