package vault

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/vire-dev/vire/host/pluginhost"
	"github.com/vire-dev/vire/internal/faketransit"
	"github.com/vire-dev/vire/internal/testbuild"
	"github.com/vire-dev/vire/sdk"
	"github.com/vire-dev/vire/sdk/plugintest"
)

// startBinary runs the built plugin under a plugin host logging to log and
// returns its key provider configured with cfg.
func startBinary(t *testing.T, log hclog.Logger, cfg sdk.ConfigValue) (sdk.KeyProvider, error) {
	t.Helper()
	bin := testbuild.Binary(t, "./cmd/vire-plugin-vault")
	if log == nil {
		log = hclog.NewNullLogger()
	}
	h := pluginhost.New(pluginhost.Options{Logger: log, HealthInterval: -1})
	t.Cleanup(h.Close)
	p, err := h.Start(t.Context(), pluginhost.Spec{Name: "vault", Path: bin})
	if err != nil {
		t.Fatalf("starting the plugin: %v", err)
	}
	return p.KeyProvider(t.Context(), cfg)
}

func TestBinaryConformance(t *testing.T) {
	plugintest.RunKeyProvider(t, plugintest.KeyHarness{Open: func(t *testing.T) sdk.KeyProvider {
		s := newFake(t, faketransit.Options{})
		kp, err := startBinary(t, nil, sdk.ConfigValue{"address": s.URL, "token": s.CreateToken(0, docPolicy(t)...)})
		if err != nil {
			t.Fatalf("KeyProvider: %v", err)
		}
		return kp
	}})
}

// TestBinaryFailures checks that the error kinds and messages survive the
// process boundary and that the plugin's logs, which reach the host's log,
// never hold the token.
func TestBinaryFailures(t *testing.T) {
	s := newFake(t, faketransit.Options{})
	tok := s.CreateToken(0, docPolicy(t)...)
	buf := &logBuffer{}
	log := hclog.New(&hclog.LoggerOptions{Name: "host", Output: buf, Level: hclog.Trace})
	ctx := t.Context()

	_, err := startBinary(t, log, sdk.ConfigValue{"address": s.URL, "token": tok, "max_retries": -1})
	var ce sdk.ConfigErrors
	if !errors.As(err, &ce) || len(ce) != 1 || ce[0].Attribute != "max_retries" {
		t.Fatalf("a bad max_retries through the plugin = %v, want ConfigErrors naming max_retries", err)
	}

	kp, err := startBinary(t, log, sdk.ConfigValue{"address": s.URL, "token": tok, "max_retries": 1})
	if err != nil {
		t.Fatal(err)
	}
	dek := newDEK(t)
	w, err := kp.Wrap(ctx, "acme", dek)
	if err != nil {
		t.Fatal(err)
	}

	_, err = kp.Unwrap(ctx, "acme\x00", w)
	wantKind(t, err, sdk.ErrIntegrity, "Unwrap as another tenant", "does not open for this tenant")

	s.Revoke(tok)
	_, err = kp.Unwrap(ctx, "acme", w)
	wantKind(t, err, sdk.ErrUnauthorized, "Unwrap with a revoked token", "expired or been revoked")
	s.Restore(tok)
	if got, err := kp.Unwrap(ctx, "acme", w); err != nil || !bytes.Equal(got, dek) {
		t.Fatalf("Unwrap after the token was restored: %v", err)
	}

	s.FailNext(2, 500)
	_, err = kp.Status(ctx, "acme")
	wantKind(t, err, sdk.ErrUnavailable, "Status with Vault failing", "HTTP 500 after 2 attempts")

	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(buf.String(), "retrying") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	logs := buf.String()
	for _, want := range []string{"configured", "retrying"} {
		if !strings.Contains(logs, want) {
			t.Errorf("the host log lacks the plugin's %q line:\n%s", want, logs)
		}
	}
	if strings.Contains(logs, tok) {
		t.Error("the host log holds the token")
	}
}
