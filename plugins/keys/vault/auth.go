package vault

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/vire-dev/vire/sdk"
)

// authenticator supplies the token for each request.
type authenticator interface {
	// token returns the token to send, logging in first when needed.
	token(ctx context.Context, c *client) (string, error)
	// refused is told that Vault answered 403 to tok; it reports whether a
	// new login may help.
	refused(tok string) bool
	// remedy tells the operator what to do about a refusal.
	remedy() string
	// method names the auth method for logs.
	method() string
}

// staticToken is a token from the configuration. Vire never renews it:
// give it a long TTL or a periodic token renewed outside Vire, or use an
// AppRole.
type staticToken string

func (t staticToken) token(context.Context, *client) (string, error) { return string(t), nil }
func (staticToken) refused(string) bool                              { return false }
func (staticToken) method() string                                   { return "token" }
func (staticToken) remedy() string {
	return "renew or replace the token, or give it the policy in docs/keys.md"
}

// appRole logs in at auth/approle/login and logs in again when three
// quarters of the token's TTL have passed, or when Vault refuses the token
// (it may have been revoked early).
type appRole struct {
	roleID   string
	secretID string
	now      func() time.Time

	mu      sync.Mutex
	tok     string
	renewAt time.Time // zero: the token does not expire
}

func (a *appRole) method() string { return "approle" }
func (a *appRole) remedy() string {
	return "a fresh AppRole login was refused the same way, so the role's token policies do not allow this path"
}

func (a *appRole) token(ctx context.Context, c *client) (string, error) {
	// Holding the lock through the login makes concurrent callers wait for
	// one login instead of each starting their own.
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.tok != "" && (a.renewAt.IsZero() || a.now().Before(a.renewAt)) {
		return a.tok, nil
	}
	return a.loginLocked(ctx, c)
}

func (a *appRole) refused(tok string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.tok == tok {
		a.tok = ""
	}
	return true
}

type loginReply struct {
	Auth *struct {
		ClientToken   string `json:"client_token"`
		LeaseDuration int64  `json:"lease_duration"`
	} `json:"auth"`
}

func (a *appRole) loginLocked(ctx context.Context, c *client) (string, error) {
	body, err := json.Marshal(map[string]string{"role_id": a.roleID, "secret_id": a.secretID})
	if err != nil {
		return "", err
	}
	defer clear(body)
	issued := a.now()
	// A login is not idempotent when the secret_id has a use limit, so it
	// is retried only where Vault cannot have seen it.
	status, raw, err := c.roundTrip(ctx, http.MethodPost, "auth/approle/login", "", body, false)
	defer clear(raw)
	if err != nil {
		return "", fmt.Errorf("AppRole login: %w", err)
	}
	switch {
	case status == http.StatusBadRequest || status == http.StatusForbidden:
		return "", fmt.Errorf("%w: vault refused the AppRole login (%s): role_id or secret_id is wrong, "+
			"or the secret_id has expired or used up its uses; issue a new secret_id", sdk.ErrUnauthorized, vaultMessage(parseErrors(raw)))
	case status == http.StatusNotFound:
		return "", fmt.Errorf("%w: no AppRole auth method at auth/approle (%s): enable it with `vault auth enable approle`",
			sdk.ErrUnauthorized, vaultMessage(parseErrors(raw)))
	case status != http.StatusOK:
		return "", fmt.Errorf("%w: AppRole login: vault answered HTTP %d: %s", sdk.ErrUnavailable, status, vaultMessage(parseErrors(raw)))
	}
	var r loginReply
	if err := json.Unmarshal(raw, &r); err != nil || r.Auth == nil || r.Auth.ClientToken == "" {
		return "", fmt.Errorf("%w: AppRole login: vault's answer holds no client token", sdk.ErrUnavailable)
	}
	a.tok = r.Auth.ClientToken
	a.renewAt = time.Time{}
	if r.Auth.LeaseDuration > 0 {
		a.renewAt = issued.Add(time.Duration(r.Auth.LeaseDuration) * time.Second * 3 / 4)
	}
	c.log.Info("logged in to vault with AppRole", "token_ttl", (time.Duration(r.Auth.LeaseDuration) * time.Second).String())
	return a.tok, nil
}
