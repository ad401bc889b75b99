package env_test

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/vire-dev/vire/host/pluginhost"
	"github.com/vire-dev/vire/internal/testbuild"
	"github.com/vire-dev/vire/sdk"
	"github.com/vire-dev/vire/sdk/plugintest"
)

// startBinary starts the built vire-plugin-env and configures its keys
// component.
func startBinary(t *testing.T, cfg sdk.ConfigValue) (sdk.KeyProvider, error) {
	t.Helper()
	h := pluginhost.New(pluginhost.Options{Logger: hclog.New(&hclog.LoggerOptions{Output: testLog{t}, Level: hclog.Warn})})
	t.Cleanup(h.Close)
	p, err := h.Start(t.Context(), pluginhost.Spec{Name: "env", Path: testbuild.Binary(t, "./cmd/vire-plugin-env")})
	if err != nil {
		t.Fatalf("starting vire-plugin-env: %v", err)
	}
	return p.KeyProvider(t.Context(), cfg)
}

type testLog struct{ t *testing.T }

func (w testLog) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func newMasterKey() string {
	k := make([]byte, 32)
	_, _ = rand.Read(k)
	return base64.StdEncoding.EncodeToString(k)
}

// TestBinaryConformance runs the key-provider suite through the plugin
// binary, the host's loader and gRPC.
func TestBinaryConformance(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts the plugin binary")
	}
	plugintest.RunKeyProvider(t, plugintest.KeyHarness{Open: func(t *testing.T) sdk.KeyProvider {
		kp, err := startBinary(t, sdk.ConfigValue{
			"master_key":   newMasterKey(),
			"retired_keys": []string{newMasterKey()},
		})
		if err != nil {
			t.Fatalf("configuring: %v", err)
		}
		return kp
	}})
}

// TestBinaryConfigErrors checks that a rejected configuration crosses the
// process boundary as sdk.ConfigErrors naming the attribute, without the
// value.
func TestBinaryConfigErrors(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts the plugin binary")
	}
	short := base64.StdEncoding.EncodeToString([]byte("only-sixteen-byt"))
	_, err := startBinary(t, sdk.ConfigValue{"master_key": short})
	var ce sdk.ConfigErrors
	if !errors.As(err, &ce) || len(ce) != 1 || ce[0].Attribute != "master_key" {
		t.Fatalf("Configure with a short key = %v, want ConfigErrors on master_key", err)
	}
	if strings.Contains(err.Error(), short) {
		t.Errorf("error quotes the key: %v", err)
	}
}
