package eodhd

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"strings"
)

// EODHD sends numbers as JSON numbers, as strings ("12.34", the AU bulk
// endpoint does this for every price and volume) and as junk ("N/A", "NA",
// "", null, "NaN", "-"). The types below decode all of these without ever
// failing: a junk value is missing (nil), never zero, and one odd field
// never costs the caller the rest of a reply.

// number is a leniently decoded JSON number.
type number struct {
	v  float64
	ok bool
}

// UnmarshalJSON accepts any JSON value; anything that is not a finite
// number or a string holding one leaves the number missing.
func (n *number) UnmarshalJSON(raw []byte) error {
	n.v, n.ok = parseNumber(raw)
	return nil
}

// ptr returns the value, or nil when it is missing.
func (n number) ptr() *float64 {
	if !n.ok {
		return nil
	}
	v := n.v
	return &v
}

// parseNumber decodes one raw JSON value as a number.
func parseNumber(raw []byte) (float64, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return 0, false
	}
	switch c := raw[0]; {
	case c == '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return 0, false
		}
		return parseNumberString(s)
	case c == '-' || (c >= '0' && c <= '9'):
		return finite(strconv.ParseFloat(string(raw), 64))
	}
	// null, true, false, objects and arrays are not numbers.
	return 0, false
}

// parseNumberString decodes a number sent as a string. Only plain decimal
// notation counts: strconv would also take "Inf", "0x1p3" and "1_000".
func parseNumberString(s string) (float64, bool) {
	s = strings.TrimSpace(s)
	if s == "" || !plainDecimal(s) {
		return 0, false
	}
	return finite(strconv.ParseFloat(s, 64))
}

// plainDecimal reports whether s looks like [+-]digits[.digits][e[+-]digits].
func plainDecimal(s string) bool {
	digits := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			digits = true
		case c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-':
		default:
			return false
		}
	}
	return digits
}

func finite(f float64, err error) (float64, bool) {
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

// text is a leniently decoded string: numbers keep their literal spelling
// (some exchanges' codes look numeric) and anything else is empty.
type text string

// UnmarshalJSON never fails.
func (t *text) UnmarshalJSON(raw []byte) error {
	raw = bytes.TrimSpace(raw)
	*t = ""
	if len(raw) == 0 {
		return nil
	}
	switch c := raw[0]; {
	case c == '"':
		var s string
		if json.Unmarshal(raw, &s) == nil {
			*t = text(strings.TrimSpace(s))
		}
	case c == '-' || (c >= '0' && c <= '9'):
		*t = text(raw)
	}
	return nil
}

// integer is a leniently decoded whole number (call counts and limits).
type integer struct {
	v  int64
	ok bool
}

// UnmarshalJSON never fails; fractions are truncated and values outside
// int64 are missing.
func (n *integer) UnmarshalJSON(raw []byte) error {
	f, ok := parseNumber(raw)
	if !ok || f >= math.MaxInt64 || f <= math.MinInt64 {
		*n = integer{}
		return nil
	}
	*n = integer{v: int64(f), ok: true}
	return nil
}
