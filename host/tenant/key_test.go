package tenant

import (
	"errors"
	"strings"
	"testing"

	"github.com/vire-dev/vire/sdk"
)

func TestKeyFormat(t *testing.T) {
	seen := map[string]bool{}
	for range 500 {
		id, err := newKeyID()
		if err != nil {
			t.Fatal(err)
		}
		key, err := newKey(id)
		if err != nil {
			t.Fatal(err)
		}
		if len(key) != KeyLength || !strings.HasPrefix(key, KeyPrefix+id+"_") {
			t.Fatalf("key %q has the wrong shape", key)
		}
		gotID, secret, err := ParseKey(key)
		if err != nil || gotID != id || len(secret) != secretLen {
			t.Fatalf("ParseKey = %q, %d chars, %v", gotID, len(secret), err)
		}
		if seen[secret] {
			t.Fatal("a secret repeated")
		}
		seen[secret] = true
	}
}

// TestSecretsAreUniform checks every base62 character turns up in secrets,
// in roughly equal numbers (a biased or truncated generator fails).
func TestSecretsAreUniform(t *testing.T) {
	counts := map[byte]int{}
	const n = 2000
	for range n {
		s, err := randomBase62(secretLen)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < len(s); i++ {
			counts[s[i]]++
		}
	}
	want := n * secretLen / 62 // ≈ 710
	for i := 0; i < len(base62); i++ {
		c := counts[base62[i]]
		if c < want/2 || c > want*2 {
			t.Errorf("character %q appeared %d times, expected about %d", base62[i], c, want)
		}
	}
}

func TestParseKeyRejects(t *testing.T) {
	id, _ := newKeyID()
	good, err := newKey(id)
	if err != nil {
		t.Fatal(err)
	}
	flip := func(i int) string {
		b := []byte(good)
		if b[i] == 'a' {
			b[i] = 'b'
		} else {
			b[i] = 'a'
		}
		return string(b)
	}
	for _, tc := range []struct {
		name, key, want string
	}{
		{"empty", "", "characters long"},
		{"truncated", good[:len(good)-1], "characters long"},
		{"longer", good + "x", "characters long"},
		{"other prefix", "vira_" + good[5:], "starts with"},
		{"upper-case prefix", "VIRE_" + good[5:], "starts with"},
		{"no separator", good[:17] + "-" + good[18:], "form"},
		{"bad character", good[:20] + "!" + good[21:], "letters and digits"},
		{"typo in id", flip(8), "checksum"},
		{"typo in secret", flip(25), "checksum"},
		{"typo in checksum", flip(len(good) - 1), "checksum"},
		{"two characters swapped", good[:30] + good[31:32] + good[30:31] + good[32:], "checksum"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.key == good {
				t.Skip("the swap hit two equal characters")
			}
			_, _, err := ParseKey(tc.key)
			var ae *AuthError
			if !errors.As(err, &ae) || ae.Reason != ReasonMalformed || !errors.Is(err, sdk.ErrUnauthorized) {
				t.Fatalf("ParseKey = %v, want a malformed-key AuthError", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not mention %q", err, tc.want)
			}
			if tc.key != "" && strings.Contains(err.Error(), tc.key) {
				t.Error("the error quotes the key")
			}
			if LooksLikeKey(tc.key) {
				t.Error("LooksLikeKey accepts it")
			}
		})
	}
	if !LooksLikeKey(good) {
		t.Error("LooksLikeKey refuses a real key")
	}
}

func TestHashSecret(t *testing.T) {
	h := hashSecret("AAAAAAAAAAAA", "secret")
	if len(h) != 64 || h == hashSecret("AAAAAAAAAAAB", "secret") || h == hashSecret("AAAAAAAAAAAA", "secreu") {
		t.Fatal("the hash does not bind the id and the secret")
	}
	if strings.Contains(h, "secret") || !secretMatches("AAAAAAAAAAAA", "secret", h) || secretMatches("AAAAAAAAAAAA", "Secret", h) {
		t.Fatal("secretMatches is wrong")
	}
}

// FuzzParseKey: ParseKey never panics, accepts only keys of the exact shape
// whose checksum holds, and what it accepts re-assembles to the input.
func FuzzParseKey(f *testing.F) {
	id, _ := newKeyID()
	good, _ := newKey(id)
	for _, s := range []string{good, "", "vire_", good[:len(good)-1], strings.ToUpper(good), "vire_" + strings.Repeat("_", 41), strings.Repeat("\xff", KeyLength)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		gotID, secret, err := ParseKey(s)
		if err != nil {
			if !errors.Is(err, sdk.ErrUnauthorized) {
				t.Fatalf("error %v is not ErrUnauthorized", err)
			}
			if len(s) >= 8 && strings.Contains(err.Error(), s) {
				t.Fatal("the error quotes the input")
			}
			return
		}
		body := KeyPrefix + gotID + "_" + secret
		if len(gotID) != idLen || len(secret) != secretLen || body+checksum(body) != s || !isBase62(gotID+secret) {
			t.Fatalf("accepted %q as id %q secret %q", s, gotID, secret)
		}
	})
}
