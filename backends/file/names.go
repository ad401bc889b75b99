package file

import (
	"encoding/hex"
	"strings"
)

// Key encoding
//
// A key maps to a relative path under the root, one path component per
// '/'-separated part of the key, so `users/alice/strategy/main` is stored as
// the file `users/alice/strategy/main.vire`. Each part is written as follows:
//
//   - Bytes a-z, 0-9, '-', '_' and '@' stay as they are, and so do A-Z unless
//     the filesystem ignores case (see below). A '.' stays too, except as the
//     part's first byte or in a part ending in ".vire".
//   - Every other byte becomes %XX (two upper-case hex digits).
//   - An empty part (from "a//b", "/a" or "a/") is written "%_".
//   - A part whose escaped form is longer than 128 bytes is written in long
//     form: the lower-case hex of its bytes, cut into 120-digit pieces, each
//     piece prefixed "%=", every piece but the last suffixed "%+" and nested
//     one directory deeper. Names therefore stay short even for 1,024-byte
//     keys and on filesystems with small name limits (eCryptfs allows 143).
//   - The last part of the key is a file named with the suffix ".vire"; every
//     other part is a directory.
//
// A raw '%' never survives escaping, so every '%' starts a token ("%XX",
// "%_", "%=", "%+") and names decode unambiguously. No name is empty, "." or
// "..", none starts with '.', and none but a leaf file ends in ".vire": a key
// and a longer key sharing its prefix ("a" and "a/b") never fight over one
// name, and names beginning with '.' are free for the store's own use (the
// .vire directory, temporary files). Decoding is the exact inverse of
// encoding, which is therefore injective; listings ignore any name that is
// not the canonical encoding of its key.
//
// On a case-insensitive filesystem (detected when the store is created) A-Z
// are escaped too, so keys differing only in case still get distinct names.

const (
	leafSuffix    = ".vire"
	emptyPart     = "%_"
	longPrefix    = "%="
	continuation  = "%+"
	maxPartName   = 128
	longChunkSize = 120
)

// names encodes keys for one store.
type names struct {
	// foldCase: the filesystem treats names differing in case as one.
	foldCase bool
}

func (n names) raw(part string, i int) bool {
	c := part[i]
	switch {
	case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-', c == '_', c == '@':
		return true
	case c >= 'A' && c <= 'Z':
		return !n.foldCase
	case c == '.':
		return i > 0 && !strings.HasSuffix(part, leafSuffix)
	}
	return false
}

// escape writes one key part in short form.
func (n names) escape(part string) string {
	if part == "" {
		return emptyPart
	}
	const digits = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(part))
	for i := 0; i < len(part); i++ {
		if n.raw(part, i) {
			b.WriteByte(part[i])
			continue
		}
		b.WriteByte('%')
		b.WriteByte(digits[part[i]>>4])
		b.WriteByte(digits[part[i]&15])
	}
	return b.String()
}

// partNames returns the path components for one key part; leaf marks the
// key's last part.
func (n names) partNames(part string, leaf bool) []string {
	var out []string
	if e := n.escape(part); len(e) <= maxPartName {
		out = []string{e}
	} else {
		h := hex.EncodeToString([]byte(part))
		for len(h) > longChunkSize {
			out = append(out, longPrefix+h[:longChunkSize]+continuation)
			h = h[longChunkSize:]
		}
		out = append(out, longPrefix+h)
	}
	if leaf {
		out[len(out)-1] += leafSuffix
	}
	return out
}

// path returns the slash-separated relative path of key's blob file.
func (n names) path(key string) string {
	parts := strings.Split(key, "/")
	var comps []string
	for i, p := range parts {
		comps = append(comps, n.partNames(p, i == len(parts)-1)...)
	}
	return strings.Join(comps, "/")
}

// nameKind says what a directory entry's name stands for.
type nameKind int

const (
	notOurs  nameKind = iota
	partDir           // a whole key part followed by '/'
	chunkDir          // a long-form piece that continues one level down
	leafFile          // the end of a key
)

// decodeName decodes one directory entry's name into the key bytes it
// contributes. isDir says whether the entry is a directory. It checks syntax
// only; callers confirm canonical form by re-encoding the whole key.
func (n names) decodeName(name string, isDir bool) (string, nameKind) {
	kind := partDir
	if !isDir {
		var ok bool
		if name, ok = strings.CutSuffix(name, leafSuffix); !ok {
			return "", notOurs
		}
		kind = leafFile
	}
	if rest, ok := strings.CutPrefix(name, longPrefix); ok {
		if isDir {
			if rest, ok = strings.CutSuffix(rest, continuation); ok {
				kind = chunkDir
			}
		}
		if rest == "" || strings.ContainsAny(rest, "ABCDEF") {
			return "", notOurs
		}
		b, err := hex.DecodeString(rest)
		if err != nil {
			return "", notOurs
		}
		return string(b), kind
	}
	if name == emptyPart {
		return "", kind
	}
	if name == "" || name[0] == '.' {
		return "", notOurs
	}
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		if i+2 >= len(name) || !isUpperHex(name[i+1]) || !isUpperHex(name[i+2]) {
			return "", notOurs
		}
		v, _ := hex.DecodeString(name[i+1 : i+3])
		b.WriteByte(v[0])
		i += 2
	}
	return b.String(), kind
}

func isUpperHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'A' && c <= 'F' }

// keyOf returns the key whose blob lives at rel, and whether rel is that
// key's canonical path.
func (n names) keyOf(rel string) (string, bool) {
	comps := strings.Split(rel, "/")
	var key strings.Builder
	for i, c := range comps {
		leaf := i == len(comps)-1
		part, kind := n.decodeName(c, !leaf)
		switch kind {
		case notOurs:
			return "", false
		case partDir:
			key.WriteString(part)
			key.WriteByte('/')
		default:
			key.WriteString(part)
		}
	}
	k := key.String()
	return k, k != "" && n.path(k) == rel
}
