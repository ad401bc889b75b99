// Package kektest holds the checks that the tests of the key providers built
// on kek (env and passphrase) share: how a rejected configuration fails, how
// arguments and an unconfigured provider are refused, and how the operator's
// rotation by configuration behaves. Each provider's own tests keep what is
// particular to it, such as its documented format and its secrets' rules.
package kektest

import (
	"bytes"
	"crypto/rand"
	"errors"
	"strings"
	"testing"

	"github.com/vire-dev/vire/plugins/keys/internal/kek"
	"github.com/vire-dev/vire/sdk"
)

// newDEK returns a random 32-byte data key.
func newDEK(t testing.TB) []byte {
	t.Helper()
	dek := make([]byte, kek.KeySize)
	if _, err := rand.Read(dek); err != nil {
		t.Fatal(err)
	}
	return dek
}

// ConfigError configures p, a fresh provider, with cfg and checks that it
// fails with sdk.ConfigErrors holding message on attr, that the error quotes
// none of secrets, and that p then refuses to wrap with sdk.ErrUnavailable.
func ConfigError(t *testing.T, p sdk.KeyProvider, cfg sdk.ConfigValue, attr, message string, secrets []string) {
	t.Helper()
	err := p.Configure(t.Context(), cfg)
	var ce sdk.ConfigErrors
	if !errors.As(err, &ce) || !errors.Is(err, sdk.ErrInvalidConfig) {
		t.Fatalf("Configure = %v, want sdk.ConfigErrors", err)
	}
	found := false
	for _, e := range ce {
		if e.Attribute == attr && strings.Contains(e.Message, message) {
			found = true
		}
	}
	if !found {
		t.Errorf("errors %v lack %s: …%s…", ce, attr, message)
	}
	for _, secret := range secrets {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error quotes a secret: %v", err)
		}
	}
	if _, err := p.Wrap(t.Context(), "acme", newDEK(t)); !errors.Is(err, sdk.ErrUnavailable) {
		t.Errorf("Wrap after a rejected configuration = %v, want ErrUnavailable", err)
	}
}

// Arguments checks that unconfigured reports sdk.ErrUnavailable from Health
// and Status, and that configured, holding exactly one key version, refuses
// empty and oversized data keys and wrapped keys naming any other version.
func Arguments(t *testing.T, unconfigured, configured sdk.KeyProvider) {
	t.Helper()
	ctx := t.Context()
	if err := unconfigured.Health(ctx); !errors.Is(err, sdk.ErrUnavailable) {
		t.Errorf("Health before Configure = %v", err)
	}
	if _, err := unconfigured.Status(ctx, "acme"); !errors.Is(err, sdk.ErrUnavailable) {
		t.Errorf("Status before Configure = %v", err)
	}
	if _, err := configured.Wrap(ctx, "acme", nil); !errors.Is(err, sdk.ErrInvalidArgument) {
		t.Errorf("Wrap of an empty key = %v", err)
	}
	if _, err := configured.Wrap(ctx, "acme", make([]byte, kek.MaxDEK+1)); !errors.Is(err, sdk.ErrInvalidArgument) {
		t.Errorf("Wrap of an oversized key = %v", err)
	}
	for _, v := range []uint32{0, 2, 1 << 31} {
		if _, err := configured.Unwrap(ctx, "acme", sdk.WrappedKey{KeyVersion: v, Ciphertext: make([]byte, 60)}); !errors.Is(err, sdk.ErrIntegrity) {
			t.Errorf("Unwrap with KeyVersion %d = %v", v, err)
		}
	}
}

// Rotation describes a provider whose key versions are a list of secrets in
// its configuration.
type Rotation[S any] struct {
	// Open returns a provider configured with secrets, the last as the
	// current one and the others as retired, oldest first.
	Open func(t *testing.T, secrets ...S) sdk.KeyProvider
	// NewSecret returns a secret no other call returned.
	NewSecret func(t *testing.T) S
	// RotateSays are what Rotate's error must tell the operator (the
	// attribute to move the current secret to, the command to run).
	RotateSays []string
}

// RotationByConfiguration follows the operator's rotation procedure: move
// the current secret to the retired ones, set a new one, restart.
func RotationByConfiguration[S any](t *testing.T, r Rotation[S]) {
	t.Helper()
	ctx := t.Context()
	s1, s2 := r.NewSecret(t), r.NewSecret(t)
	before := r.Open(t, s1)
	dek := newDEK(t)
	w1, err := before.Wrap(ctx, "acme", dek)
	if err != nil || w1.KeyVersion != 1 {
		t.Fatalf("Wrap = %+v, %v", w1, err)
	}
	_, err = before.Rotate(ctx, "acme")
	if !errors.Is(err, sdk.ErrUnsupported) {
		t.Fatalf("Rotate = %v, want ErrUnsupported telling the operator what to do", err)
	}
	for _, want := range r.RotateSays {
		if !strings.Contains(err.Error(), want) {
			t.Fatalf("Rotate = %v, want it to mention %q", err, want)
		}
	}

	after := r.Open(t, s1, s2)
	st, err := after.Status(ctx, "acme")
	if err != nil || st.Latest != 2 || st.MinDecrypt != 1 || len(st.Versions) != 2 || st.Rotatable {
		t.Fatalf("Status = %+v, %v", st, err)
	}
	got, err := after.Unwrap(ctx, "acme", w1)
	if err != nil || !bytes.Equal(got, dek) {
		t.Fatalf("old wrapped key after rotation: %v", err)
	}
	w2, err := after.Rewrap(ctx, "acme", w1)
	if err != nil || w2.KeyVersion != 2 {
		t.Fatalf("Rewrap = %+v, %v", w2, err)
	}
	// Dropping the retired secret strands version-1 keys, and renumbers the
	// new secret as version 1, so rewrapped keys are stranded too: version
	// numbers must stay put.
	onlyNew := r.Open(t, s2)
	if _, err := onlyNew.Unwrap(ctx, "acme", w1); !errors.Is(err, sdk.ErrIntegrity) {
		t.Errorf("Unwrap of version 1 with only version 1 configured as a different secret: %v", err)
	}
	if _, err := onlyNew.Unwrap(ctx, "acme", w2); !errors.Is(err, sdk.ErrIntegrity) || !strings.Contains(err.Error(), "version 2") {
		t.Errorf("Unwrap of version 2 with one version configured: %v", err)
	}
	got, err = r.Open(t, s1, s2).Unwrap(ctx, "acme", w2)
	if err != nil || !bytes.Equal(got, dek) {
		t.Errorf("rewrapped key: %v", err)
	}
	// A version-2 key presented as version 1 (a lying KeyVersion) fails.
	if _, err := after.Unwrap(ctx, "acme", sdk.WrappedKey{KeyVersion: 1, Ciphertext: w2.Ciphertext}); !errors.Is(err, sdk.ErrIntegrity) {
		t.Errorf("Unwrap with a wrong KeyVersion: %v", err)
	}
}

// BenchWrapUnwrap wraps and unwraps one data key per iteration.
func BenchWrapUnwrap(b *testing.B, p sdk.KeyProvider) {
	dek := newDEK(b)
	for b.Loop() {
		w, err := p.Wrap(b.Context(), "acme", dek)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := p.Unwrap(b.Context(), "acme", w); err != nil {
			b.Fatal(err)
		}
	}
}
