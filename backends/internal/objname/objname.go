// Package objname maps Vire blob keys (arbitrary byte strings of up to
// sdk.MaxKeyLength bytes) to object names that S3- and GCS-like stores hold
// reliably, and lists such a store in the byte order of the original keys.
//
// # Encoding
//
// Each key byte becomes a code word over the characters 0-9 a-z - _ ~:
//
//	'0'-'9', 'a'-'z'   themselves
//	0x00-0x2F          '-' and two upper-case hex digits ("/" is "-2F")
//	0x3A-0x60          '_' and two upper-case hex digits ("A" is "_41")
//	0x7B-0xFF          '~' and two upper-case hex digits
//
// The code is prefix-free and its code words sort in the order of the bytes
// they stand for ('-' < '0'-'9' < '_' < 'a'-'z' < '~', and hex digits sort
// as their values), so the encoding is injective and preserves byte order:
// key a sorts before key b exactly when Encode(a) sorts before Encode(b), and
// a is a prefix of b exactly when Encode(a) is a prefix of Encode(b). Store
// prefix listings and store order therefore work on encoded names.
//
// # Object names
//
// The encoded key plus a terminator '!' (which sorts before every code word,
// so a key sorts before its extensions) is the name's content. The content is
// cut into segments of SegmentLength characters joined by '/': a posix-backed
// gateway (versitygw) turns segments into directories and would otherwise hit
// the 255-byte file-name limit. Cutting at fixed offsets keeps byte order,
// and the terminator keeps a name from ever being another name's directory.
// The configured store prefix is put in front unchanged.
//
// Object names are limited (1,024 bytes on S3 and GCS) while an encoded key
// may be three times as long as the key. A key whose name would not fit is an
// overflow key: its content is the first Head characters of its encoding,
// "~~" (which no encoding contains), a hash of the key, and the terminator.
// The store keeps the full key in the object's metadata. All keys whose
// encodings share those Head characters form a region whose names are
// contiguous in store order; List reads a region whole, learns the full keys
// and sorts them, so listings stay in key order.
package objname

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

const (
	// SegmentLength is the longest run of characters between two '/'.
	SegmentLength = 200
	// MaxName is the longest object name S3 and GCS accept, in bytes.
	MaxName = 1024
	// terminator ends every name's content; it sorts before every code word.
	terminator = '!'
	// overflowMark follows the head of an overflow key's content.
	overflowMark = "~~"
	// hashLength is the number of hex digits of SHA-256 in an overflow name.
	hashLength = 32
	// minHead is the shortest head that keeps regions small enough to read
	// whole; a longer store prefix is refused.
	minHead = 256
)

const upperHex = "0123456789ABCDEF"

// Encode returns the order-preserving encoding of key.
func Encode(key string) string {
	var b strings.Builder
	b.Grow(len(key) * 3 / 2)
	for i := 0; i < len(key); i++ {
		c := key[i]
		switch {
		case c >= '0' && c <= '9', c >= 'a' && c <= 'z':
			b.WriteByte(c)
			continue
		case c < '0':
			b.WriteByte('-')
		case c < 'a':
			b.WriteByte('_')
		default:
			b.WriteByte('~')
		}
		b.WriteByte(upperHex[c>>4])
		b.WriteByte(upperHex[c&0xF])
	}
	return b.String()
}

// ErrMalformed reports a string that Encode could not have produced.
var ErrMalformed = errors.New("malformed encoded key")

// Decode inverts Encode. It accepts only Encode's exact output, so every
// key has one encoding.
func Decode(s string) (string, error) {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= '0' && c <= '9' || c >= 'a' && c <= 'z' {
			out = append(out, c)
			continue
		}
		if i+2 >= len(s) {
			return "", fmt.Errorf("%w: truncated escape at %d", ErrMalformed, i)
		}
		v, ok := hexByte(s[i+1], s[i+2])
		if !ok {
			return "", fmt.Errorf("%w: bad escape at %d", ErrMalformed, i)
		}
		var valid bool
		switch c {
		case '-':
			valid = v < '0'
		case '_':
			valid = v > '9' && v < 'a'
		case '~':
			valid = v > 'z'
		}
		if !valid {
			return "", fmt.Errorf("%w: bad escape at %d", ErrMalformed, i)
		}
		out = append(out, v)
		i += 2
	}
	return string(out), nil
}

func hexByte(hi, lo byte) (byte, bool) {
	h, ok1 := hexVal(hi)
	l, ok2 := hexVal(lo)
	return h<<4 | l, ok1 && ok2
}

func hexVal(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// Codec turns keys into object names under one store prefix.
type Codec struct {
	prefix string
	// content is the longest name content (terminator included) that fits.
	content int
	// head is the length of an overflow name's encoded head.
	head int
}

// NewCodec returns a codec for names of at most maxName bytes that start with
// prefix.
func NewCodec(prefix string, maxName int) (*Codec, error) {
	if strings.ContainsAny(prefix, "\x00\r\n") {
		return nil, errors.New("prefix must not contain NUL, CR or LF")
	}
	// Largest n with len(prefix) + n + (n-1)/SegmentLength <= maxName.
	n := 0
	for len(prefix)+(n+1)+n/SegmentLength <= maxName {
		n++
	}
	head := n - 1 - len(overflowMark) - hashLength
	if head < minHead {
		return nil, fmt.Errorf("prefix of %d bytes leaves too little room for keys in %d-byte object names", len(prefix), maxName)
	}
	return &Codec{prefix: prefix, content: n, head: head}, nil
}

// Prefix is the store prefix every name starts with.
func (c *Codec) Prefix() string { return c.prefix }

// Head is the number of encoded characters an overflow name keeps.
func (c *Codec) Head() int { return c.head }

// segment inserts '/' every SegmentLength characters of content. The cut
// points depend only on offsets, so segment(x) is a prefix of segment(x+y).
func segment(content string) string {
	if len(content) <= SegmentLength {
		return content
	}
	var b strings.Builder
	b.Grow(len(content) + len(content)/SegmentLength)
	for i := 0; i < len(content); i += SegmentLength {
		if i > 0 {
			b.WriteByte('/')
		}
		b.WriteString(content[i:min(i+SegmentLength, len(content))])
	}
	return b.String()
}

// Name returns key's object name and whether it is an overflow name, whose
// object must carry the full key (see MetaValue).
func (c *Codec) Name(key string) (name string, overflow bool) {
	enc := Encode(key)
	if len(enc)+1 <= c.content {
		return c.prefix + segment(enc+string(terminator)), false
	}
	sum := sha256.Sum256([]byte(key))
	content := enc[:c.head] + overflowMark + hex.EncodeToString(sum[:])[:hashLength] + string(terminator)
	return c.prefix + segment(content), true
}

// Parsed is what a name says about its key.
type Parsed struct {
	// Key is the key; empty for an overflow name.
	Key string
	// Overflow names hold only the head of their key's encoding.
	Overflow bool
	// Region is the encoded head shared by the keys this name must be sorted
	// with; empty when the name sorts on its own.
	Region string
}

// Parse reads a name produced by Name.
func (c *Codec) Parse(name string) (Parsed, error) {
	rest, ok := strings.CutPrefix(name, c.prefix)
	if !ok {
		return Parsed{}, fmt.Errorf("%w: name lacks the store prefix", ErrMalformed)
	}
	content := strings.ReplaceAll(rest, "/", "")
	if segment(content) != rest {
		return Parsed{}, fmt.Errorf("%w: bad segmentation", ErrMalformed)
	}
	body, ok := strings.CutSuffix(content, string(terminator))
	if !ok {
		return Parsed{}, fmt.Errorf("%w: no terminator", ErrMalformed)
	}
	if len(content) > c.content {
		return Parsed{}, fmt.Errorf("%w: name longer than this codec writes", ErrMalformed)
	}
	if len(content) == c.content && body[c.head:c.head+len(overflowMark)] == overflowMark {
		return Parsed{Overflow: true, Region: body[:c.head]}, nil
	}
	key, err := Decode(body)
	if err != nil {
		return Parsed{}, err
	}
	if len(key) == 0 {
		return Parsed{}, fmt.Errorf("%w: empty key", ErrMalformed)
	}
	p := Parsed{Key: key}
	if len(body) > c.head {
		p.Region = body[:c.head]
	}
	return p, nil
}

// ListPrefix is the store prefix under which every key starting with
// keyPrefix lives (and possibly others, which List filters out).
func (c *Codec) ListPrefix(keyPrefix string) string {
	enc := Encode(keyPrefix)
	if len(enc) > c.head {
		enc = enc[:c.head]
	}
	return c.prefix + segment(enc)
}

// RegionPrefix is the store prefix of a region's names.
func (c *Codec) RegionPrefix(region string) string { return c.prefix + segment(region) }

// MetaValue encodes a key for an object's metadata (ASCII, as S3 requires).
func MetaValue(key string) string { return base64.RawURLEncoding.EncodeToString([]byte(key)) }

// ParseMetaValue inverts MetaValue.
func ParseMetaValue(v string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil {
		return "", fmt.Errorf("%w: metadata key: %v", ErrMalformed, err)
	}
	return string(b), nil
}

// Cursor turns the last key of a page into an opaque, printable cursor.
func Cursor(lastKey string) string { return "k" + Encode(lastKey) }

// ParseCursor inverts Cursor.
func ParseCursor(cursor string) (string, error) {
	body, ok := strings.CutPrefix(cursor, "k")
	if !ok || body == "" {
		return "", fmt.Errorf("%w: cursor", ErrMalformed)
	}
	return Decode(body)
}
