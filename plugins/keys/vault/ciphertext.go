package vault

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"strconv"
)

const (
	ciphertextPrefix = "vault:v"
	// minSealed is a GCM nonce plus tag: the shortest transit ciphertext.
	minSealed = 12 + 16
	// maxCiphertext bounds what Unwrap sends to Vault; a wrapped 32-byte
	// data key is 89 bytes.
	maxCiphertext = 8192
)

var errNotTransit = errors.New("not a Vault transit ciphertext")

// parseCiphertext checks that c is exactly what transit's encrypt returns,
// "vault:v<N>:<padded standard base64 of nonce||ciphertext||tag>", and
// returns N.
//
// Vault itself is lenient: it reads "v0" as version 1, accepts "+1" and
// "01", and skips newlines inside the base64. Every such spelling is a
// different byte string that Vault would still open, so a changed wrapped
// key could unwrap. Only the canonical form passes here, which is what makes
// every altered byte an integrity failure.
func parseCiphertext(c []byte) (uint32, error) {
	if len(c) > maxCiphertext {
		return 0, fmt.Errorf("%w: %d bytes is longer than any wrapped data key", errNotTransit, len(c))
	}
	rest, found := bytes.CutPrefix(c, []byte(ciphertextPrefix))
	if !found {
		return 0, fmt.Errorf("%w: no %q prefix", errNotTransit, ciphertextPrefix)
	}
	digits, payload, found := bytes.Cut(rest, []byte(":"))
	if !found {
		return 0, fmt.Errorf("%w: no version field", errNotTransit)
	}
	if len(digits) == 0 || len(digits) > 10 || digits[0] == '0' {
		return 0, fmt.Errorf("%w: malformed version", errNotTransit)
	}
	for _, d := range digits {
		if d < '0' || d > '9' {
			return 0, fmt.Errorf("%w: malformed version", errNotTransit)
		}
	}
	v, err := strconv.ParseUint(string(digits), 10, 64)
	if err != nil || v > math.MaxUint32 {
		return 0, fmt.Errorf("%w: version out of range", errNotTransit)
	}
	for _, b := range payload {
		if !isBase64Char(b) {
			return 0, fmt.Errorf("%w: the payload is not standard base64", errNotTransit)
		}
	}
	raw, err := base64.StdEncoding.Strict().DecodeString(string(payload))
	if err != nil {
		return 0, fmt.Errorf("%w: the payload is not canonical base64", errNotTransit)
	}
	if len(raw) < minSealed {
		return 0, fmt.Errorf("%w: %d sealed bytes are fewer than a nonce and a tag", errNotTransit, len(raw))
	}
	return uint32(v), nil
}

func isBase64Char(b byte) bool {
	return b >= 'A' && b <= 'Z' || b >= 'a' && b <= 'z' || b >= '0' && b <= '9' || b == '+' || b == '/' || b == '='
}
