package documents

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/vire-dev/vire/host/store"
)

// MaxPortfolioNameLength leaves room in a store name for a snapshot's
// "@<version>" suffix.
const MaxPortfolioNameLength = store.MaxNameLength - 20

// ValidatePortfolioName checks a portfolio name: a valid store document name
// (no '/', '\\' or control characters) of at most MaxPortfolioNameLength bytes.
func ValidatePortfolioName(name string) error {
	var fe fieldErrs
	checkPortfolioName(&fe, name)
	return fe.err()
}

func checkPortfolioName(fe *fieldErrs, name string) {
	if err := store.ValidateName(name); err != nil {
		msg := err.Error()
		// The store's message names its own layer; keep what matters.
		if _, after, ok := strings.Cut(msg, ": "); ok {
			msg = after
		}
		fe.add("name", "%s", msg)
		return
	}
	if len(name) > MaxPortfolioNameLength {
		fe.add("name", "it is %d bytes long, the limit is %d", len(name), MaxPortfolioNameLength)
	}
}

// NormalizeTicker upper-cases a ticker and checks that it reads
// CODE.EXCHANGE, e.g. "BHP.AU" or "BRK-B.US": a code of 1 to 20 letters,
// digits, '-' and '_' starting with a letter or digit, a dot, and an
// exchange code as ValidateExchange accepts.
func NormalizeTicker(s string) (string, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	code, exch, ok := cutLast(t, ".")
	if !ok {
		return "", errors.New("want CODE.EXCHANGE, e.g. BHP.AU")
	}
	if len(code) == 0 || len(code) > 20 {
		return "", errors.New("the code before the dot must be 1 to 20 characters, e.g. BHP in BHP.AU")
	}
	for i := 0; i < len(code); i++ {
		c := code[i]
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || (c == '-' || c == '_') && i > 0) {
			return "", fmt.Errorf("the code may hold letters, digits, '-' and '_' only, starting with a letter or digit; found %q", c)
		}
	}
	if _, err := NormalizeExchange(exch); err != nil {
		return "", err
	}
	return t, nil
}

// NormalizeExchange upper-cases an exchange code and checks it: 2 to 10
// letters and digits starting with a letter, e.g. "AU", "US", "LSE".
func NormalizeExchange(s string) (string, error) {
	e := strings.ToUpper(strings.TrimSpace(s))
	if len(e) < 2 || len(e) > 10 {
		return "", errors.New("an exchange code is 2 to 10 letters and digits, e.g. AU or US")
	}
	for i := 0; i < len(e); i++ {
		c := e[i]
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' && i > 0) {
			return "", fmt.Errorf("an exchange code holds letters and digits only, starting with a letter; found %q", c)
		}
	}
	return e, nil
}

func cutLast(s, sep string) (before, after string, ok bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+len(sep):], true
}

// checkText checks free text: valid UTF-8, at most max characters, and no
// control characters other than newline and tab.
func checkText(fe *fieldErrs, field, s string, max int) {
	if !utf8.ValidString(s) {
		fe.add(field, "the text is not valid UTF-8")
		return
	}
	if n := utf8.RuneCountInString(s); n > max {
		fe.add(field, "the text is %d characters long, the limit is %d", n, max)
		return
	}
	for _, r := range s {
		if unicode.IsControl(r) && r != '\n' && r != '\t' && r != '\r' {
			fe.add(field, "the text contains the control character %U", r)
			return
		}
	}
}

// checkLabel checks a short one-line label such as a sector name.
func checkLabel(fe *fieldErrs, field, s string, max int) {
	if strings.TrimSpace(s) == "" {
		fe.add(field, "must not be empty")
		return
	}
	if strings.TrimSpace(s) != s {
		fe.add(field, "must not start or end with spaces")
		return
	}
	if strings.ContainsAny(s, "\n\r\t") {
		fe.add(field, "must be a single line")
		return
	}
	checkText(fe, field, s, max)
}

func checkPercent(fe *fieldErrs, field string, v float64, allowZero bool) {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		fe.add(field, "must be a finite number")
	case v < 0 || v == 0 && !allowZero:
		if allowZero {
			fe.add(field, "must be between 0 and 100")
		} else {
			fe.add(field, "must be greater than 0 and at most 100")
		}
	case v > 100:
		fe.add(field, "must be at most 100 (it is a percentage)")
	}
}

func checkPrice(fe *fieldErrs, field string, v float64) {
	if math.IsNaN(v) || math.IsInf(v, 0) || v <= 0 {
		fe.add(field, "must be a positive number")
	}
}

// dateLayout is the format of plan target dates.
const dateLayout = "2006-01-02"

func checkDate(fe *fieldErrs, field, s string) {
	if _, err := time.Parse(dateLayout, s); err != nil {
		fe.add(field, "want a date as YYYY-MM-DD, got %q", s)
	}
}

func idx(field string, i int) string { return fmt.Sprintf("%s[%d]", field, i) }
