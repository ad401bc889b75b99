package market

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/vire-dev/vire/sdk"
)

// Bounds on what a caller may ask for. Codes are short upstream (BRK-B,
// 0700, AUDUSD); the bounds keep nonsense out of store names and upstream
// requests.
const (
	maxCodeLen     = 24
	maxExchangeLen = 12
	maxQueryLen    = 100
	// MaxSearchLimit caps the results of one search.
	MaxSearchLimit = 50
	// DefaultSearchLimit is the number of results when none is asked for.
	DefaultSearchLimit = 10
)

// NormalizeTicker checks that t is CODE.EXCHANGE (BHP.AU, BRK-B.US,
// AUDUSD.FOREX) and returns it in upper case, the one spelling under which
// the market namespace stores it. Anything else wraps
// sdk.ErrInvalidArgument.
func NormalizeTicker(t string) (string, error) {
	code, ex, ok := strings.Cut(t, ".")
	bad := func(why string) error {
		return fmt.Errorf("%w: ticker %q %s; a ticker is CODE.EXCHANGE, e.g. BHP.AU or AAPL.US",
			sdk.ErrInvalidArgument, clip(t), why)
	}
	switch {
	case !ok:
		return "", bad("has no exchange")
	case code == "" || len(code) > maxCodeLen:
		return "", bad(fmt.Sprintf("needs a code of 1 to %d characters", maxCodeLen))
	case ex == "" || len(ex) > maxExchangeLen:
		return "", bad(fmt.Sprintf("needs an exchange of 1 to %d characters", maxExchangeLen))
	}
	for i := 0; i < len(code); i++ {
		c := code[i]
		if !isAlnum(c) && !(i > 0 && (c == '-' || c == '_' || c == '&')) {
			return "", bad("has a code with characters other than letters, digits and - _ & (not first)")
		}
	}
	for i := 0; i < len(ex); i++ {
		if !isAlnum(ex[i]) {
			return "", bad("has an exchange with characters other than letters and digits")
		}
	}
	return strings.ToUpper(t), nil
}

func isAlnum(c byte) bool {
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
}

// CheckRange validates optional from and to dates (YYYY-MM-DD, from not
// after to).
func CheckRange(from, to string) error {
	for _, d := range []struct{ name, v string }{{"from", from}, {"to", to}} {
		if d.v == "" {
			continue
		}
		if t, err := time.Parse(time.DateOnly, d.v); err != nil || t.Format(time.DateOnly) != d.v {
			return fmt.Errorf("%w: %s %q is not a date in the form YYYY-MM-DD", sdk.ErrInvalidArgument, d.name, clip(d.v))
		}
	}
	if from != "" && to != "" && from > to {
		return fmt.Errorf("%w: from %s is after to %s", sdk.ErrInvalidArgument, from, to)
	}
	return nil
}

// CheckPeriod validates a history period; "" means daily.
func CheckPeriod(p sdk.Period) (sdk.Period, error) {
	switch p {
	case "":
		return sdk.Daily, nil
	case sdk.Daily, sdk.Weekly, sdk.Monthly:
		return p, nil
	}
	return "", fmt.Errorf("%w: period %q must be d (daily), w (weekly) or m (monthly)", sdk.ErrInvalidArgument, clip(string(p)))
}

// normalizeQuery checks a search query and returns the form its cache
// entry is named by.
func normalizeQuery(q string) (string, error) {
	q = strings.TrimSpace(q)
	switch {
	case q == "":
		return "", fmt.Errorf("%w: the search query is empty", sdk.ErrInvalidArgument)
	case len(q) > maxQueryLen:
		return "", fmt.Errorf("%w: the search query is longer than %d bytes", sdk.ErrInvalidArgument, maxQueryLen)
	case !utf8.ValidString(q):
		return "", fmt.Errorf("%w: the search query is not valid UTF-8", sdk.ErrInvalidArgument)
	}
	for _, r := range q {
		if r < 0x20 || r == 0x7f {
			return "", fmt.Errorf("%w: the search query holds control characters", sdk.ErrInvalidArgument)
		}
	}
	return strings.ToLower(strings.Join(strings.Fields(q), " ")), nil
}

// clip shortens caller-supplied text quoted in an error.
func clip(s string) string {
	const max = 40
	if len(s) <= max {
		return s
	}
	return s[:max] + "…"
}
