package eodhd

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/vire-dev/vire/sdk"
)

// Limits on what a caller may send. EODHD codes are short (BRK-B, 0700,
// AUDUSD, BTC-USD); the bounds only keep nonsense out of request paths.
const (
	maxCodeLen     = 24
	maxExchangeLen = 12
	maxQueryLen    = 100
	maxSearchLimit = 500
)

// splitTicker checks that t is CODE.EXCHANGE and returns both parts. It is
// called before any request is made, so a malformed ticker costs no call.
func splitTicker(t string) (code, exchange string, err error) {
	code, exchange, ok := strings.Cut(t, ".")
	if !ok || strings.Contains(exchange, ".") {
		return "", "", fmt.Errorf("%w: ticker %q must be CODE.EXCHANGE, e.g. BHP.AU or AAPL.US", sdk.ErrInvalidArgument, clip(t))
	}
	if err := checkCode(code); err != nil {
		return "", "", fmt.Errorf("%w: ticker %q: %v", sdk.ErrInvalidArgument, clip(t), err)
	}
	if err := checkExchange(exchange); err != nil {
		return "", "", fmt.Errorf("%w: ticker %q: %v", sdk.ErrInvalidArgument, clip(t), err)
	}
	return code, exchange, nil
}

func checkTicker(t string) error {
	_, _, err := splitTicker(t)
	return err
}

func checkCode(code string) error {
	if code == "" || len(code) > maxCodeLen {
		return fmt.Errorf("the code must have 1 to %d characters", maxCodeLen)
	}
	for i := 0; i < len(code); i++ {
		c := code[i]
		if !isAlnum(c) && !(i > 0 && (c == '-' || c == '_' || c == '&')) {
			return fmt.Errorf("the code may hold only letters, digits and - _ & (not first)")
		}
	}
	return nil
}

func checkExchange(ex string) error {
	if ex == "" || len(ex) > maxExchangeLen {
		return fmt.Errorf("the exchange must have 1 to %d characters", maxExchangeLen)
	}
	for i := 0; i < len(ex); i++ {
		if !isAlnum(ex[i]) {
			return fmt.Errorf("the exchange may hold only letters and digits")
		}
	}
	return nil
}

// exchangeArg validates an exchange passed on its own (bulk, symbol lists).
func exchangeArg(ex string) (string, error) {
	if err := checkExchange(ex); err != nil {
		return "", fmt.Errorf("%w: exchange %q: %v", sdk.ErrInvalidArgument, clip(ex), err)
	}
	return strings.ToUpper(ex), nil
}

func isAlnum(c byte) bool {
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
}

// checkDate accepts "" (no bound) or a real YYYY-MM-DD date.
func checkDate(what, d string) error {
	if d == "" {
		return nil
	}
	if _, err := time.Parse(time.DateOnly, d); err != nil || len(d) != len(time.DateOnly) {
		return fmt.Errorf("%w: %s %q must be a date in the form YYYY-MM-DD", sdk.ErrInvalidArgument, what, clip(d))
	}
	return nil
}

func checkRange(from, to string) error {
	if err := checkDate("from", from); err != nil {
		return err
	}
	if err := checkDate("to", to); err != nil {
		return err
	}
	if from != "" && to != "" && from > to {
		return fmt.Errorf("%w: from %s is after to %s", sdk.ErrInvalidArgument, from, to)
	}
	return nil
}

// checkQuery validates a search query: free text, but bounded and printable.
func checkQuery(q string) error {
	q = strings.TrimSpace(q)
	switch {
	case q == "":
		return fmt.Errorf("%w: the search query is empty", sdk.ErrInvalidArgument)
	case len(q) > maxQueryLen:
		return fmt.Errorf("%w: the search query is longer than %d bytes", sdk.ErrInvalidArgument, maxQueryLen)
	case !utf8.ValidString(q):
		return fmt.Errorf("%w: the search query is not valid UTF-8", sdk.ErrInvalidArgument)
	}
	for _, r := range q {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("%w: the search query holds control characters", sdk.ErrInvalidArgument)
		}
	}
	return nil
}

// clip shortens caller-supplied text quoted in an error.
func clip(s string) string {
	const max = 40
	if len(s) <= max {
		return s
	}
	return s[:max] + "…"
}
