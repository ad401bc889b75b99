package tenant

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"hash/crc32"
	"strings"
)

// An API key is
//
//	vire_<id>_<secret><checksum>
//
// where id is 12 base62 characters (public: it names the key in listings,
// logs and audit records), secret is 22 base62 characters (about 131 random
// bits from crypto/rand) and checksum is the CRC-32 of everything before it,
// as 6 base62 characters. The fixed prefix and the checksum let a typo, or a
// secret scanner looking at a leaked file, recognise a Vire key without
// asking the server.
const (
	KeyPrefix   = "vire_"
	idLen       = 12
	secretLen   = 22
	checksumLen = 6
	// KeyLength is the length of every API key.
	KeyLength = len(KeyPrefix) + idLen + 1 + secretLen + checksumLen
)

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// randomBase62 returns n uniformly random base62 characters. Bytes at or
// above 248 (the largest multiple of 62 that fits a byte) are thrown away so
// every character is equally likely.
func randomBase62(n int) (string, error) {
	out := make([]byte, 0, n)
	buf := make([]byte, n+n/2)
	for len(out) < n {
		if _, err := rand.Read(buf); err != nil {
			return "", fmt.Errorf("tenant: reading random bytes: %w", err)
		}
		for _, b := range buf {
			if b < 248 && len(out) < n {
				out = append(out, base62[b%62])
			}
		}
	}
	return string(out), nil
}

func checksum(body string) string {
	v := crc32.ChecksumIEEE([]byte(body))
	var out [checksumLen]byte
	for i := checksumLen - 1; i >= 0; i-- {
		out[i] = base62[v%62]
		v /= 62
	}
	return string(out[:])
}

func isBase62(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z') {
			return false
		}
	}
	return true
}

// newKeyID returns a fresh public key id.
func newKeyID() (string, error) { return randomBase62(idLen) }

// newKey returns a new API key for the key id.
func newKey(id string) (string, error) {
	secret, err := randomBase62(secretLen)
	if err != nil {
		return "", err
	}
	body := KeyPrefix + id + "_" + secret
	return body + checksum(body), nil
}

// ParseKey checks an API key's shape and checksum and returns its id and
// secret. It never touches storage, so garbage is turned away for free. The
// error never quotes the key.
func ParseKey(key string) (id, secret string, err error) {
	switch {
	case len(key) != KeyLength:
		return "", "", authError(ReasonMalformed, "an API key is %d characters long", KeyLength)
	case !strings.HasPrefix(key, KeyPrefix):
		return "", "", authError(ReasonMalformed, "an API key starts with %q", KeyPrefix)
	}
	rest := key[len(KeyPrefix):]
	if rest[idLen] != '_' {
		return "", "", authError(ReasonMalformed, "the API key is not in the form vire_<id>_<secret>")
	}
	id, tail := rest[:idLen], rest[idLen+1:]
	if !isBase62(id) || !isBase62(tail) {
		return "", "", authError(ReasonMalformed, "an API key holds only letters and digits after its prefix")
	}
	body, sum := key[:len(key)-checksumLen], key[len(key)-checksumLen:]
	if subtle.ConstantTimeCompare([]byte(checksum(body)), []byte(sum)) != 1 {
		return "", "", authError(ReasonMalformed, "the API key's checksum does not match: it was mistyped or cut short")
	}
	return id, tail[:secretLen], nil
}

// LooksLikeKey reports whether s has the shape and checksum of a Vire API
// key, for scanners and log filters.
func LooksLikeKey(s string) bool {
	_, _, err := ParseKey(s)
	return err == nil
}

// hashSecret returns the stored form of a key's secret.
//
// A plain SHA-256 is the right tool here, unlike for passwords: the secret
// is 131 bits from crypto/rand, so nobody holding the hash can search the
// secret space, and a deliberately slow hash (bcrypt, Argon2) would add
// milliseconds of CPU to every request while protecting nothing more. The
// key id and a version label are mixed in so a hash cannot be moved to
// another key record.
func hashSecret(id, secret string) string {
	h := sha256.New()
	h.Write([]byte("vire-api-key-v1\x00"))
	h.Write([]byte(id))
	h.Write([]byte{0})
	h.Write([]byte(secret))
	return hex.EncodeToString(h.Sum(nil))
}

// secretMatches compares a presented secret with a stored hash in constant
// time.
func secretMatches(id, secret, stored string) bool {
	return subtle.ConstantTimeCompare([]byte(hashSecret(id, secret)), []byte(stored)) == 1
}
