package crypt

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"fmt"
)

const (
	// Magic opens every sealed blob.
	Magic = "VIRE"
	// FormatVersion is the envelope format this package writes.
	FormatVersion = 1

	// NonceSize is the AES-GCM nonce length (96 bits).
	NonceSize = 12
	// TagSize is the AES-GCM authentication tag length (128 bits).
	TagSize = 16
	// DEKSize is the data-key length (AES-256).
	DEKSize = 32
	// MaxProviderIDLength caps the key-provider id in the header.
	MaxProviderIDLength = 64

	// fixed header bytes around the provider id: magic, format, id length,
	// DEK version, nonce.
	fixedHeader = len(Magic) + 1 + 1 + 4 + NonceSize
)

// Header is the parsed clear-text header of a sealed blob.
type Header struct {
	// Format is the envelope format version.
	Format uint8
	// ProviderID names the key provider whose keyring holds the DEK.
	ProviderID string
	// DEKVersion is the tenant keyring's data-key version that sealed the blob.
	DEKVersion uint32
	// Nonce is the AES-GCM nonce.
	Nonce [NonceSize]byte
}

// Overhead returns how many bytes sealing adds to a plaintext for a
// provider id of the given length.
func Overhead(providerIDLen int) int { return fixedHeader + providerIDLen + TagSize }

// validProviderID reports whether id may appear in a header: 1 to 64 bytes of
// [a-z0-9._-].
func validProviderID(id string) bool {
	if len(id) == 0 || len(id) > MaxProviderIDLength {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '.' && c != '_' && c != '-' {
			return false
		}
	}
	return true
}

// appendHeader encodes h after b.
func appendHeader(b []byte, h *Header) []byte {
	b = append(b, Magic...)
	b = append(b, h.Format, byte(len(h.ProviderID)))
	b = append(b, h.ProviderID...)
	b = binary.BigEndian.AppendUint32(b, h.DEKVersion)
	return append(b, h.Nonce[:]...)
}

// ParseHeader decodes the header of a sealed blob without decrypting it, for
// example to find blobs that are not sealed with the current DEK version.
func ParseHeader(blob []byte) (Header, error) {
	h, _, err := parseBlob(blob)
	return h, err
}

// parseBlob returns the header and its length in bytes. The rest of blob is
// the GCM ciphertext and tag, at least TagSize bytes long.
func parseBlob(blob []byte) (Header, int, error) {
	var h Header
	if len(blob) == 0 {
		return h, 0, fmt.Errorf("%w: the blob is empty", ErrTruncated)
	}
	if len(blob) < len(Magic) {
		if string(blob) == Magic[:len(blob)] {
			return h, 0, fmt.Errorf("%w: %d bytes, shorter than the magic", ErrTruncated, len(blob))
		}
		return h, 0, ErrNotEncrypted
	}
	if string(blob[:len(Magic)]) != Magic {
		return h, 0, ErrNotEncrypted
	}
	p := len(Magic)
	if len(blob) < p+2 {
		return h, 0, fmt.Errorf("%w: %d bytes, header incomplete", ErrTruncated, len(blob))
	}
	h.Format = blob[p]
	if h.Format != FormatVersion {
		return h, 0, fmt.Errorf("%w: version %d (this build reads version %d): written by a newer Vire, or corrupted",
			ErrUnknownFormat, h.Format, FormatVersion)
	}
	idLen := int(blob[p+1])
	p += 2
	if idLen == 0 || idLen > MaxProviderIDLength {
		return h, 0, fmt.Errorf("%w: key-provider id length %d (must be 1 to %d)", ErrMalformed, idLen, MaxProviderIDLength)
	}
	need := fixedHeader + idLen + TagSize
	if len(blob) < need {
		return h, 0, fmt.Errorf("%w: %d bytes, at least %d needed", ErrTruncated, len(blob), need)
	}
	id := string(blob[p : p+idLen])
	if !validProviderID(id) {
		return h, 0, fmt.Errorf("%w: key-provider id is not of [a-z0-9._-]", ErrMalformed)
	}
	h.ProviderID = id
	p += idLen
	h.DEKVersion = binary.BigEndian.Uint32(blob[p:])
	if h.DEKVersion == 0 {
		return h, 0, fmt.Errorf("%w: DEK version 0", ErrMalformed)
	}
	p += 4
	copy(h.Nonce[:], blob[p:p+NonceSize])
	p += NonceSize
	return h, p, nil
}

// additionalData binds a ciphertext to its header, tenant and blob key:
//
//	header bytes || uint32be(len(tenant)) || tenant || uint32be(len(key)) || key
//
// The lengths make the encoding injective, so no two (tenant, key) pairs
// produce the same bytes.
func additionalData(header []byte, tenant, key string) []byte {
	b := make([]byte, 0, len(header)+8+len(tenant)+len(key))
	b = append(b, header...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(tenant)))
	b = append(b, tenant...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(key)))
	return append(b, key...)
}

// newAEAD returns AES-256-GCM with a 96-bit nonce and 128-bit tag.
func newAEAD(key []byte) (cipher.AEAD, error) {
	if len(key) != DEKSize {
		return nil, fmt.Errorf("crypt: data key is %d bytes, want %d", len(key), DEKSize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// sealRaw appends the GCM ciphertext and tag of plaintext to dst.
func sealRaw(aead cipher.AEAD, dst, nonce, plaintext, aad []byte) []byte {
	return aead.Seal(dst, nonce, plaintext, aad)
}

// openRaw authenticates and decrypts ciphertext||tag. On failure it returns
// ErrAuthFailed and no plaintext.
func openRaw(aead cipher.AEAD, nonce, sealed, aad []byte) ([]byte, error) {
	if len(nonce) != NonceSize || len(sealed) < TagSize {
		return nil, ErrAuthFailed
	}
	pt, err := aead.Open(nil, nonce, sealed, aad)
	if err != nil {
		return nil, ErrAuthFailed
	}
	return pt, nil
}
