package vault

import (
	"bytes"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/vire-dev/vire/internal/faketransit"
	"github.com/vire-dev/vire/sdk"
)

// newFake starts a fake Vault with transit mounted at transit/.
func newFake(t *testing.T, o faketransit.Options) *faketransit.Server {
	t.Helper()
	s := faketransit.New(t, o)
	s.Mount("transit", "transit")
	return s
}

// docPolicy returns the policy that docs/keys.md tells operators to give
// Vire, parsed from the first hcl block holding path rules in its
// "## vault" section, so the
// tests prove that the documented policy is enough.
func docPolicy(t testing.TB) []faketransit.Rule {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "docs", "keys.md"))
	if err != nil {
		t.Fatalf("reading docs/keys.md: %v", err)
	}
	_, section, found := strings.Cut(string(b), "\n## vault\n")
	if !found {
		t.Fatal(`docs/keys.md has no "## vault" section`)
	}
	if next := strings.Index(section, "\n## "); next >= 0 {
		section = section[:next]
	}
	pathRE := regexp.MustCompile(`path\s+"([^"]+)"\s*\{\s*capabilities\s*=\s*\[([^\]]*)\]\s*\}`)
	var rules []faketransit.Rule
	for _, block := range strings.Split(section, "```hcl\n")[1:] {
		block, _, _ = strings.Cut(block, "```")
		if len(rules) > 0 {
			break
		}
		for _, m := range pathRE.FindAllStringSubmatch(block, -1) {
			var caps []string
			for c := range strings.SplitSeq(m[2], ",") {
				caps = append(caps, strings.Trim(strings.TrimSpace(c), `"`))
			}
			rules = append(rules, faketransit.Rule{Path: m[1], Capabilities: caps})
		}
	}
	if len(rules) < 5 {
		t.Fatalf("parsed only %d path rules from the documented policy", len(rules))
	}
	return rules
}

// configured returns a provider configured against s with cfg on top of
// address and a token holding the documented policy.
func configured(t *testing.T, s *faketransit.Server, cfg sdk.ConfigValue, log hclog.Logger) *Provider {
	t.Helper()
	p := New(log)
	p.retryBase = 5 * time.Millisecond
	if err := configure(t, p, s, cfg); err != nil {
		t.Fatalf("Configure: %v", err)
	}
	return p
}

func configure(t *testing.T, p *Provider, s *faketransit.Server, cfg sdk.ConfigValue) error {
	t.Helper()
	full := sdk.ConfigValue{"address": s.URL}
	if cfg["role_id"] == nil && cfg["token"] == nil {
		full["token"] = s.CreateToken(0, docPolicy(t)...)
	}
	for k, v := range cfg {
		full[k] = v
	}
	full, err := p.Schema().Complete(full)
	if err != nil {
		return err
	}
	t.Cleanup(func() { p.Close() })
	return p.Configure(t.Context(), full)
}

func newDEK(t testing.TB) []byte {
	t.Helper()
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return b
}

func wantKind(t *testing.T, err, kind error, what string, msgParts ...string) {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Fatalf("%s: got %v (kind %v), want %v", what, err, sdk.Kind(err), kind)
	}
	for _, m := range msgParts {
		if !strings.Contains(err.Error(), m) {
			t.Errorf("%s: error %q does not say %q", what, err, m)
		}
	}
}

// logBuffer is a concurrency-safe log sink.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func captureLog() (hclog.Logger, *logBuffer) {
	buf := &logBuffer{}
	return hclog.New(&hclog.LoggerOptions{Name: "vault", Output: buf, Level: hclog.Trace, JSONFormat: true}), buf
}
