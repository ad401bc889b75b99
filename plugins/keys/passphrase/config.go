package passphrase

import (
	"crypto/subtle"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/vire-dev/vire/plugins/keys/internal/keyconfig"
	"github.com/vire-dev/vire/sdk"
)

// Limits and defaults of the configuration.
const (
	// MinPassphraseLength is the shortest passphrase accepted, in
	// characters. Argon2id slows guessing down; it cannot make a short
	// passphrase strong.
	MinPassphraseLength = 12
	// maxPassphraseBytes keeps a pasted file or a runaway variable from
	// being stretched.
	maxPassphraseBytes = 1024

	minSaltBytes = 16
	maxSaltBytes = 64

	DefaultTime      = 3
	DefaultMemoryKiB = 64 * 1024
	DefaultThreads   = 2

	minTime      = 1
	maxTime      = 64
	minMemoryKiB = 8 * 1024
	maxMemoryKiB = 4 * 1024 * 1024
	minThreads   = 1
	maxThreads   = 16

	// recommendedMemoryKiB and recommendedWork are RFC 9106's second
	// recommended setting (t=3, m=64 MiB). Less memory, or less total work
	// (time × memory), is allowed (tests and small machines need it) but
	// logged as a warning. t=1 with 2 GiB, the first recommendation, passes.
	recommendedMemoryKiB = 64 * 1024
	recommendedWork      = 3 * 64 * 1024
)

// params are the Argon2id cost parameters.
type params struct {
	time      uint32
	memoryKiB uint32
	threads   uint8
}

// belowRecommended reports whether p is cheaper than RFC 9106 recommends.
func (p params) belowRecommended() bool {
	return p.memoryKiB < recommendedMemoryKiB || uint64(p.time)*uint64(p.memoryKiB) < recommendedWork
}

// settings is a validated configuration. passphrases[v-1] is version v.
type settings struct {
	passphrases []string
	salt        []byte
	params      params
}

func schema() sdk.ConfigSchema {
	return sdk.ConfigSchema{Attributes: []sdk.Attribute{
		{
			Name: "passphrase", Type: sdk.TypeString, Required: true, Sensitive: true,
			Description: fmt.Sprintf("The passphrase every tenant's key-encryption key is derived from: at least %d characters, "+
				"best a long random phrase of several words. Set it from a sensitive variable whose default reads the environment "+
				"(e.g. VIRE_PASSPHRASE); never write it into a config file. Losing it loses the data.", MinPassphraseLength),
		},
		{
			Name: "salt", Type: sdk.TypeString, Required: true,
			Description: "Base64 of 16 to 64 random bytes, made once per installation with `openssl rand -base64 16`. " +
				"It is not secret and may sit in the config file, but it must never change: " +
				"a different salt derives different keys and the stored data no longer opens.",
		},
		{
			Name: "retired_passphrases", Type: sdk.TypeStringList, Sensitive: true,
			Description: "Earlier passphrases, oldest first, kept so data keys wrapped under them still open. " +
				"To rotate, append the current passphrase here, set a new passphrase, restart, then run `vire-server keys rewrap`.",
		},
		{
			Name: "time", Type: sdk.TypeNumber, Default: DefaultTime,
			Description: fmt.Sprintf("Argon2id passes over memory (%d to %d). Like salt, memory_kib and threads it is part of the key: "+
				"never change it once data is stored.", minTime, maxTime),
		},
		{
			Name: "memory_kib", Type: sdk.TypeNumber, Default: DefaultMemoryKiB,
			Description: fmt.Sprintf("Argon2id memory in KiB (%d to %d; default 64 MiB). Values below 65536, "+
				"or time × memory_kib below 3 × 65536, are logged as weaker than RFC 9106 recommends.", minMemoryKiB, maxMemoryKiB),
		},
		{
			Name: "threads", Type: sdk.TypeNumber, Default: DefaultThreads,
			Description: fmt.Sprintf("Argon2id parallelism (%d to %d). It changes the derived key too.", minThreads, maxThreads),
		},
	}}
}

// parseSettings validates a configuration. Missing numbers take their
// defaults, so a caller that skipped schema.Complete still works. Errors
// name the attribute and never quote a passphrase.
func parseSettings(cfg sdk.ConfigValue) (settings, error) {
	var errs sdk.ConfigErrors
	add := func(attr, format string, args ...any) {
		errs = append(errs, sdk.ConfigError{Attribute: attr, Message: fmt.Sprintf(format, args...)})
	}
	var s settings

	retired, ok := keyconfig.StringList(cfg["retired_passphrases"])
	if !ok {
		add("retired_passphrases", "must be a list of strings")
	}
	for i, p := range retired {
		if msg := checkPassphrase(p); msg != "" {
			add("retired_passphrases", "entry %d %s", i+1, msg)
			continue
		}
		for j, prev := range s.passphrases {
			if same(prev, p) {
				add("retired_passphrases", "entry %d repeats entry %d; each key version needs its own passphrase", i+1, j+1)
			}
		}
		s.passphrases = append(s.passphrases, p)
	}

	raw, present := cfg["passphrase"]
	p, isString := raw.(string)
	switch {
	case !present || raw == nil:
		add("passphrase", "is not set; choose a passphrase of at least %d characters and pass it through a sensitive variable such as VIRE_PASSPHRASE", MinPassphraseLength)
	case !isString:
		add("passphrase", "must be a string")
	default:
		if msg := checkPassphrase(p); msg != "" {
			add("passphrase", "%s", msg)
			break
		}
		for j, prev := range retired {
			if same(prev, p) {
				add("passphrase", "equals retired_passphrases entry %d; set a new passphrase", j+1)
			}
		}
		s.passphrases = append(s.passphrases, p)
	}

	salt, err := parseSalt(cfg["salt"])
	if err != nil {
		add("salt", "%v", err)
	}
	s.salt = salt

	num := func(name string, def, lo, hi int) uint32 {
		v, present := cfg[name]
		if !present || v == nil {
			return uint32(def)
		}
		f, isNum := v.(float64)
		if n, isInt := v.(int); isInt {
			f, isNum = float64(n), true
		}
		if !isNum || f != float64(int64(f)) || f < float64(lo) || f > float64(hi) {
			add(name, "must be a whole number from %d to %d", lo, hi)
			return uint32(def)
		}
		return uint32(f)
	}
	s.params = params{
		time:      num("time", DefaultTime, minTime, maxTime),
		memoryKiB: num("memory_kib", DefaultMemoryKiB, minMemoryKiB, maxMemoryKiB),
		threads:   uint8(num("threads", DefaultThreads, minThreads, maxThreads)),
	}

	if len(errs) > 0 {
		return settings{}, errs
	}
	return s, nil
}

// checkPassphrase returns what is wrong with a passphrase, or "". The
// message never holds the passphrase.
func checkPassphrase(p string) string {
	n := utf8.RuneCountInString(p)
	switch {
	case p == "":
		return "is empty"
	case !utf8.ValidString(p):
		return "is not valid UTF-8"
	case len(p) > maxPassphraseBytes:
		return fmt.Sprintf("is %d bytes long; the limit is %d", len(p), maxPassphraseBytes)
	case n < MinPassphraseLength:
		return fmt.Sprintf("is %d characters long; use at least %d (a few random words make a strong one)", n, MinPassphraseLength)
	}
	first, _ := utf8.DecodeRuneInString(p)
	last, _ := utf8.DecodeLastRuneInString(p)
	if unicode.IsSpace(first) || unicode.IsSpace(last) {
		// Almost always a newline from a file or a copy-paste: taking it
		// silently would derive a key nobody can type again.
		return "starts or ends with whitespace (often a trailing newline read from a file); remove it"
	}
	return ""
}

// same compares two passphrases in constant time for equal lengths.
func same(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// parseSalt decodes the installation salt.
func parseSalt(v any) ([]byte, error) {
	s, isString := v.(string)
	switch {
	case v == nil:
		return nil, fmt.Errorf("is not set; make one with `openssl rand -base64 16` and keep it for the life of the installation")
	case !isString:
		return nil, fmt.Errorf("must be a string")
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, fmt.Errorf("is empty; make one with `openssl rand -base64 16`")
	}
	b, ok := keyconfig.Base64(s)
	if !ok {
		return nil, fmt.Errorf("is not valid base64 (standard or URL alphabet); make one with `openssl rand -base64 16`")
	}
	if len(b) < minSaltBytes || len(b) > maxSaltBytes {
		return nil, fmt.Errorf("decodes to %d bytes; it must be %d to %d random bytes (`openssl rand -base64 16`)", len(b), minSaltBytes, maxSaltBytes)
	}
	return b, nil
}
