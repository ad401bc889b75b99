package passphrase_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/vire-dev/vire/host/pluginhost"
	"github.com/vire-dev/vire/internal/testbuild"
	"github.com/vire-dev/vire/plugins/keys/passphrase"
	"github.com/vire-dev/vire/sdk"
	"github.com/vire-dev/vire/sdk/plugintest"
)

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

// startBinary starts the built vire-plugin-passphrase under a plugin host
// logging to log and configures its keys component.
func startBinary(t *testing.T, log hclog.Logger, cfg sdk.ConfigValue) (sdk.KeyProvider, error) {
	t.Helper()
	if log == nil {
		log = hclog.NewNullLogger()
	}
	h := pluginhost.New(pluginhost.Options{Logger: log, HealthInterval: -1})
	t.Cleanup(h.Close)
	p, err := h.Start(t.Context(), pluginhost.Spec{Name: "passphrase", Path: testbuild.Binary(t, "./cmd/vire-plugin-passphrase")})
	if err != nil {
		t.Fatalf("starting vire-plugin-passphrase: %v", err)
	}
	return p.KeyProvider(t.Context(), cfg)
}

func random(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

func cheapConfig(passphrase string, retired ...string) sdk.ConfigValue {
	cfg := sdk.ConfigValue{
		"passphrase": passphrase,
		"salt":       base64.StdEncoding.EncodeToString(random(16)),
		"time":       1,
		"memory_kib": 8192,
	}
	if len(retired) > 0 {
		cfg["retired_passphrases"] = retired
	}
	return cfg
}

func newPassphrase() string { return "binary-" + base64.RawURLEncoding.EncodeToString(random(15)) }

// TestBinaryConformance runs the key-provider suite through the plugin
// binary, the host's loader and gRPC.
func TestBinaryConformance(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts the plugin binary")
	}
	plugintest.RunKeyProvider(t, plugintest.KeyHarness{Open: func(t *testing.T) sdk.KeyProvider {
		kp, err := startBinary(t, nil, cheapConfig(newPassphrase(), newPassphrase()))
		if err != nil {
			t.Fatalf("configuring: %v", err)
		}
		return kp
	}})
}

// TestBinaryInterop: the plugin process and the package derive the same
// keys from the same configuration, so a key wrapped by one opens in the
// other.
func TestBinaryInterop(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts the plugin binary")
	}
	ctx := t.Context()
	cfg := cheapConfig(newPassphrase())
	kp, err := startBinary(t, nil, cfg)
	if err != nil {
		t.Fatal(err)
	}
	local := passphrase.New(nil)
	if err := local.Configure(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	defer local.Close()
	dek := random(32)
	w, err := kp.Wrap(ctx, "acme", dek)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := local.Unwrap(ctx, "acme", w); err != nil || !bytes.Equal(got, dek) {
		t.Fatalf("a key wrapped by the plugin does not open in-process: %v", err)
	}
}

// TestBinaryConfigErrorsAndLogs checks that a rejected configuration crosses
// the process boundary as sdk.ConfigErrors naming the attribute without the
// value, that the weak-parameter warning reaches the host's log, and that
// neither holds the passphrase.
func TestBinaryConfigErrorsAndLogs(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts the plugin binary")
	}
	buf := &logBuffer{}
	log := hclog.New(&hclog.LoggerOptions{Name: "host", Output: buf, Level: hclog.Trace})

	short := "tooshort"
	_, err := startBinary(t, log, cheapConfig(short))
	var ce sdk.ConfigErrors
	if !errors.As(err, &ce) || len(ce) != 1 || ce[0].Attribute != "passphrase" || !strings.Contains(ce[0].Message, "at least 12") {
		t.Fatalf("Configure with a short passphrase = %v, want ConfigErrors on passphrase", err)
	}
	if strings.Contains(err.Error(), short) {
		t.Errorf("error quotes the passphrase: %v", err)
	}

	pass := newPassphrase()
	kp, err := startBinary(t, log, cheapConfig(pass))
	if err != nil {
		t.Fatal(err)
	}
	if err := kp.Health(t.Context()); err != nil {
		t.Fatal(err)
	}
	_, err = kp.Rotate(t.Context(), "acme")
	if !errors.Is(err, sdk.ErrUnsupported) || !strings.Contains(err.Error(), "retired_passphrases") {
		t.Errorf("Rotate through the plugin = %v, want ErrUnsupported with instructions", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	for !strings.Contains(buf.String(), "below the recommended") && ctx.Err() == nil {
		time.Sleep(20 * time.Millisecond)
	}
	logs := buf.String()
	if !strings.Contains(logs, "below the recommended") {
		t.Errorf("the host log lacks the plugin's weak-parameter warning:\n%s", logs)
	}
	if strings.Contains(logs, pass) || strings.Contains(logs, short) {
		t.Error("the host log holds a passphrase")
	}
}
