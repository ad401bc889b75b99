// Package keyconfig decodes the configuration values that more than one key
// provider accepts in the same form: lists of secrets and base64 key
// material. The messages about what is wrong stay with each provider, which
// knows what the value is for.
package keyconfig

import "encoding/base64"

// StringList accepts a list(string) value as decoded from the wire or built
// in Go. A missing value is an empty list.
func StringList(v any) ([]string, bool) {
	switch x := v.(type) {
	case nil:
		return nil, true
	case []string:
		return x, true
	case []any:
		out := make([]string, len(x))
		for i, e := range x {
			s, ok := e.(string)
			if !ok {
				return nil, false
			}
			out[i] = s
		}
		return out, true
	}
	return nil, false
}

// Base64 decodes s in whichever of the standard or URL alphabet, padded or
// unpadded, accepts it (an operator may paste any of them). The alphabets
// differ only in characters and padding that at most one of them accepts,
// so every one that accepts s decodes it to the same bytes. ok is false when
// none does.
func Base64(s string) (b []byte, ok bool) {
	for _, enc := range []*base64.Encoding{
		base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding,
	} {
		b, err := enc.Strict().DecodeString(s)
		if err == nil {
			return b, true
		}
	}
	return nil, false
}
