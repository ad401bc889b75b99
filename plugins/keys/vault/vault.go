// Package vault is Vire's "vault" key provider: tenants' data keys are
// wrapped by HashiCorp Vault's transit secrets engine, so the key-encryption
// key never leaves Vault.
//
// One transit key (key_name, default "vire") is created with
// type=aes256-gcm96 and derived=true. Every call passes
// context = base64(tenant id), so Vault derives a separate AES key per tenant
// and version (HKDF-SHA256 over the key version with the context as info):
// a key wrapped for one tenant fails authentication for any other.
//
//   - Wrap is transit encrypt; WrappedKey.Ciphertext is Vault's ciphertext
//     string ("vault:vN:...") as bytes and KeyVersion is its N.
//   - Unwrap is transit decrypt. A wrapped key that is not exactly such a
//     string, or whose N differs from KeyVersion, fails with sdk.ErrIntegrity
//     without a call to Vault; Vault's "message authentication failed" (wrong
//     tenant, altered bytes) does too.
//   - Rewrap is transit rewrap: the data key never leaves Vault.
//   - Rotate is transit rotate. Versions belong to the key name, so a
//     rotation for one tenant rotates every tenant's derived key; the tenant
//     argument is only validated.
//   - Status reads the key: latest_version, min_decryption_version, keys.
//
// Configure makes sure the key exists: it creates it when missing (which
// needs "create" on <mount>/keys/<key_name>), and otherwise fails with a
// message giving the vault command that creates it. An existing key created
// without derived=true is refused, since all tenants would share one key.
//
// The provider speaks Vault's HTTP API with net/http rather than
// github.com/hashicorp/vault/api: it needs seven endpoints, and owning the
// requests keeps the retry policy (bounded, context-aware, never repeating a
// rotation whose outcome is unknown), the mapping of Vault's answers to sdk
// error kinds, and the handling of tokens and plaintext in one place. The
// library would also read VAULT_* variables from the environment, which
// could silently override the configuration, and brings a dependency tree
// larger than this package.
package vault

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/vire-dev/vire/sdk"
)

const (
	// maxDEK bounds what Wrap accepts; data keys are 32 bytes.
	maxDEK = 1024
	// maxTenant bounds a tenant id, which travels as the derivation context.
	maxTenant = 4096
	// errTooOld is Vault's message for a ciphertext version below
	// min_decryption_version.
	errTooOld = "disallowed by policy (too old)"
)

// errKeyMissing means the transit key does not exist.
var errKeyMissing = errors.New("transit key does not exist")

// Provider is the vault key provider. Construct it with New and configure
// it before use.
type Provider struct {
	log hclog.Logger
	// now and retryBase are fixed at New; tests in this package change
	// them before Configure.
	now       func() time.Time
	retryBase time.Duration

	mu sync.RWMutex
	c  *client // nil until configured
}

var _ sdk.KeyProvider = (*Provider)(nil)

// New returns an unconfigured provider.
func New(log hclog.Logger) *Provider {
	if log == nil {
		log = hclog.NewNullLogger()
	}
	return &Provider{log: log, now: time.Now, retryBase: 200 * time.Millisecond}
}

// Schema declares the provider's configuration.
func (p *Provider) Schema() sdk.ConfigSchema { return schema() }

// Configure validates the configuration, logs in (AppRole) and makes sure
// the transit key exists and is derived. Vault must be reachable: a
// configuration that cannot work is reported now, not at the first write.
func (p *Provider) Configure(ctx context.Context, cfg sdk.ConfigValue) error {
	s, err := parseSettings(cfg)
	if err != nil {
		return err
	}
	hc, err := s.httpClient()
	if err != nil {
		return err
	}
	c := &client{
		base: s.address, http: hc, namespace: s.namespace, mount: s.mount, key: s.keyName,
		timeout: s.timeout, maxRetries: s.maxRetries, retryBase: p.retryBase, log: p.log,
	}
	if s.token != "" {
		c.auth = staticToken(s.token)
	} else {
		c.auth = &appRole{roleID: s.roleID, secretID: s.secretID, now: p.now}
	}
	if s.skipVerify {
		p.log.Warn("tls_skip_verify is set: Vault's certificate is NOT verified, so anyone on the network path " +
			"can pose as Vault and read every data key and the token; set ca_cert instead")
	}
	if s.address.Scheme == "http" && !isLoopback(s.address.Hostname()) {
		p.log.Warn("address uses plain http to another host: the token and every data key cross the network unencrypted; use https")
	}
	info, err := c.ensureKey(ctx)
	if err != nil {
		hc.CloseIdleConnections()
		return err
	}
	p.mu.Lock()
	old := p.c
	p.c = c
	p.mu.Unlock()
	if old != nil {
		old.http.CloseIdleConnections()
	}
	p.log.Info("configured", "vault", s.address.Host, "namespace", s.namespace, "mount", s.mount,
		"key", s.keyName, "auth", c.auth.method(), "latest_version", info.Latest, "min_decryption_version", info.MinDecrypt)
	return nil
}

// Close releases idle connections.
func (p *Provider) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.c != nil {
		p.c.http.CloseIdleConnections()
	}
	return nil
}

func (p *Provider) client() (*client, error) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.c == nil {
		return nil, fmt.Errorf("%w: the vault key provider is not configured", sdk.ErrUnavailable)
	}
	return p.c, nil
}

// Health checks that Vault is initialised and unsealed, then that the token
// can still read the transit key.
func (p *Provider) Health(ctx context.Context) error {
	c, err := p.client()
	if err != nil {
		return err
	}
	status, _, raw, err := c.send(ctx, http.MethodGet, "sys/health?standbyok=true&perfstandbyok=true", "", nil)
	if err != nil {
		return fmt.Errorf("%w: vault at %s: %v", sdk.ErrUnavailable, c.base.Host, err)
	}
	var h struct {
		Initialized bool `json:"initialized"`
		Sealed      bool `json:"sealed"`
	}
	_ = json.Unmarshal(raw, &h)
	switch {
	case h.Sealed || status == http.StatusServiceUnavailable:
		return fmt.Errorf("%w: vault at %s is sealed", sdk.ErrUnavailable, c.base.Host)
	case status == http.StatusNotImplemented || (status == http.StatusOK && !h.Initialized):
		return fmt.Errorf("%w: vault at %s is not initialised", sdk.ErrUnavailable, c.base.Host)
	case status != http.StatusOK && status != http.StatusTooManyRequests && status != 472 && status != 473:
		return fmt.Errorf("%w: vault at %s answered sys/health with HTTP %d", sdk.ErrUnavailable, c.base.Host, status)
	}
	_, err = c.readKey(ctx)
	return err
}

// checkTenant rejects tenant ids Vault cannot use as a context.
func checkTenant(tenant string) error {
	if tenant == "" {
		return fmt.Errorf("%w: empty tenant id", sdk.ErrInvalidArgument)
	}
	if len(tenant) > maxTenant {
		return fmt.Errorf("%w: tenant id longer than %d bytes", sdk.ErrInvalidArgument, maxTenant)
	}
	return nil
}

// jsonBody builds {"<k1>":"<v1>",...} from values that need no JSON
// escaping (base64 and validated ciphertexts), into one buffer the caller
// clears: no copy of a data key is left in an immutable string.
func jsonBody(kv ...[]byte) []byte {
	n := 2
	for _, b := range kv {
		n += len(b) + 4
	}
	out := make([]byte, 0, n)
	out = append(out, '{')
	for i := 0; i+1 < len(kv); i += 2 {
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, '"')
		out = append(out, kv[i]...)
		out = append(out, '"', ':', '"')
		out = append(out, kv[i+1]...)
		out = append(out, '"')
	}
	return append(out, '}')
}

func context64(tenant string) []byte {
	return base64.StdEncoding.AppendEncode(nil, []byte(tenant))
}

type ciphertextReply struct {
	Data struct {
		Ciphertext string `json:"ciphertext"`
	} `json:"data"`
}

// Wrap seals dek with the tenant's derived key.
func (p *Provider) Wrap(ctx context.Context, tenant string, dek []byte) (sdk.WrappedKey, error) {
	c, err := p.client()
	if err != nil {
		return sdk.WrappedKey{}, err
	}
	if err := checkTenant(tenant); err != nil {
		return sdk.WrappedKey{}, err
	}
	if len(dek) == 0 || len(dek) > maxDEK {
		return sdk.WrappedKey{}, fmt.Errorf("%w: a data key must be 1 to %d bytes, not %d", sdk.ErrInvalidArgument, maxDEK, len(dek))
	}
	plain := base64.StdEncoding.AppendEncode(nil, dek)
	body := jsonBody([]byte("plaintext"), plain, []byte("context"), context64(tenant))
	clear(plain)
	var out ciphertextReply
	err = c.call(ctx, http.MethodPost, c.transitPath("encrypt"), body, &out, true)
	clear(body)
	if err != nil {
		return sdk.WrappedKey{}, c.opError("wrap", err)
	}
	return c.wrapped(out.Data.Ciphertext)
}

// wrapped checks a ciphertext Vault returned.
func (c *client) wrapped(ct string) (sdk.WrappedKey, error) {
	v, err := parseCiphertext([]byte(ct))
	if err != nil {
		return sdk.WrappedKey{}, fmt.Errorf("%w: vault returned a ciphertext Vire cannot use: %v", sdk.ErrUnavailable, err)
	}
	return sdk.WrappedKey{KeyVersion: v, Ciphertext: []byte(ct)}, nil
}

// checkWrapped validates w before it is sent to Vault.
func checkWrapped(w sdk.WrappedKey) error {
	v, err := parseCiphertext(w.Ciphertext)
	if err != nil {
		return fmt.Errorf("%w: wrapped key is damaged: %v", sdk.ErrIntegrity, err)
	}
	if v != w.KeyVersion {
		return fmt.Errorf("%w: wrapped key is damaged: it claims key version %d but its ciphertext is version %d",
			sdk.ErrIntegrity, w.KeyVersion, v)
	}
	return nil
}

// Unwrap opens a wrapped key for the tenant it was wrapped for.
func (p *Provider) Unwrap(ctx context.Context, tenant string, w sdk.WrappedKey) ([]byte, error) {
	c, err := p.client()
	if err != nil {
		return nil, err
	}
	if err := checkTenant(tenant); err != nil {
		return nil, err
	}
	if err := checkWrapped(w); err != nil {
		return nil, err
	}
	body := jsonBody([]byte("ciphertext"), w.Ciphertext, []byte("context"), context64(tenant))
	var out struct {
		Data struct {
			Plaintext []byte `json:"plaintext"`
		} `json:"data"`
	}
	if err := c.call(ctx, http.MethodPost, c.transitPath("decrypt"), body, &out, true); err != nil {
		return nil, c.opError("unwrap", err, w.KeyVersion)
	}
	if len(out.Data.Plaintext) == 0 {
		return nil, fmt.Errorf("%w: vault unwrapped an empty data key", sdk.ErrIntegrity)
	}
	return out.Data.Plaintext, nil
}

// Rewrap moves w to the key's latest version inside Vault.
func (p *Provider) Rewrap(ctx context.Context, tenant string, w sdk.WrappedKey) (sdk.WrappedKey, error) {
	c, err := p.client()
	if err != nil {
		return sdk.WrappedKey{}, err
	}
	if err := checkTenant(tenant); err != nil {
		return sdk.WrappedKey{}, err
	}
	if err := checkWrapped(w); err != nil {
		return sdk.WrappedKey{}, err
	}
	body := jsonBody([]byte("ciphertext"), w.Ciphertext, []byte("context"), context64(tenant))
	var out ciphertextReply
	if err := c.call(ctx, http.MethodPost, c.transitPath("rewrap"), body, &out, true); err != nil {
		return sdk.WrappedKey{}, c.opError("rewrap", err, w.KeyVersion)
	}
	return c.wrapped(out.Data.Ciphertext)
}

// Rotate adds a version to the transit key. The key is shared by all
// tenants, so every tenant's new wraps move to the new version.
func (p *Provider) Rotate(ctx context.Context, tenant string) (uint32, error) {
	c, err := p.client()
	if err != nil {
		return 0, err
	}
	if err := checkTenant(tenant); err != nil {
		return 0, err
	}
	var out struct {
		Data *keyInfo `json:"data"`
	}
	if err := c.call(ctx, http.MethodPost, c.mount+"/keys/"+c.key+"/rotate", nil, &out, false); err != nil {
		return 0, c.opError("rotate", err)
	}
	latest := uint32(0)
	if out.Data != nil {
		latest = out.Data.Latest
	}
	if latest == 0 {
		// Vault before 1.13 answers a rotation with 204 and no body.
		info, err := c.readKey(ctx)
		if err != nil {
			return 0, err
		}
		latest = info.Latest
	}
	c.log.Info("rotated the transit key; new wraps for every tenant use the new version", "key", c.key, "version", latest)
	return latest, nil
}

// Status reports the transit key's versions. They are the same for every
// tenant.
func (p *Provider) Status(ctx context.Context, tenant string) (sdk.KeyStatus, error) {
	c, err := p.client()
	if err != nil {
		return sdk.KeyStatus{}, err
	}
	if err := checkTenant(tenant); err != nil {
		return sdk.KeyStatus{}, err
	}
	info, err := c.readKey(ctx)
	if err != nil {
		return sdk.KeyStatus{}, err
	}
	return sdk.KeyStatus{Latest: info.Latest, MinDecrypt: info.MinDecrypt, Versions: info.versions, Rotatable: true}, nil
}

// keyInfo is the part of a transit key read that Vire uses.
type keyInfo struct {
	Type       string                     `json:"type"`
	Derived    bool                       `json:"derived"`
	Convergent bool                       `json:"convergent_encryption"`
	Latest     uint32                     `json:"latest_version"`
	MinDecrypt uint32                     `json:"min_decryption_version"`
	Keys       map[string]json.RawMessage `json:"keys"`

	versions []uint32
}

// readKey reads the transit key; errKeyMissing when it does not exist.
func (c *client) readKey(ctx context.Context) (*keyInfo, error) {
	var out struct {
		Data *keyInfo `json:"data"`
	}
	err := c.call(ctx, http.MethodGet, c.mount+"/keys/"+c.key, nil, &out, true)
	var ae *apiError
	if errors.As(err, &ae) && ae.status == http.StatusNotFound && len(ae.errs) == 0 {
		return nil, fmt.Errorf("%w: %w: %q at mount %q", sdk.ErrUnavailable, errKeyMissing, c.key, c.mount)
	}
	if err != nil {
		return nil, c.opError("read key", err)
	}
	info := out.Data
	if info == nil || info.Latest == 0 {
		return nil, fmt.Errorf("%w: vault's answer for transit key %q has no latest_version", sdk.ErrUnavailable, c.key)
	}
	if info.MinDecrypt == 0 {
		info.MinDecrypt = 1
	}
	for k := range info.Keys {
		v, err := strconv.ParseUint(k, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("%w: vault lists a key version %q that is not a number", sdk.ErrUnavailable, k)
		}
		info.versions = append(info.versions, uint32(v))
	}
	slices.Sort(info.versions)
	return info, nil
}

// ensureKey reads the key, creating it when missing, and checks that it can
// give each tenant its own key.
func (c *client) ensureKey(ctx context.Context) (*keyInfo, error) {
	info, err := c.readKey(ctx)
	if errors.Is(err, errKeyMissing) {
		body := []byte(`{"type":"aes256-gcm96","derived":true}`)
		cerr := c.call(ctx, http.MethodPost, c.mount+"/keys/"+c.key, body, nil, true)
		if isUnauthorized(cerr) {
			return nil, fmt.Errorf("%w: transit key %q does not exist at mount %q and this token may not create it: "+
				"create it once with `vault write %s/keys/%s type=aes256-gcm96 derived=true`, or grant \"create\" on %s/keys/%s",
				sdk.ErrUnauthorized, c.key, c.mount, c.mount, c.key, c.mount, c.key)
		}
		if cerr != nil {
			return nil, c.opError("create key", cerr)
		}
		c.log.Info("created transit key", "mount", c.mount, "key", c.key, "type", "aes256-gcm96", "derived", true)
		info, err = c.readKey(ctx)
	}
	if err != nil {
		return nil, err
	}
	switch {
	case !info.Derived:
		return nil, sdk.AttrError("key_name", "transit key %q was created without derived=true, so every tenant would share "+
			"one key, and derivation cannot be turned on later: name a new key (Vire creates it) or create one with derived=true", c.key)
	case info.Type != "aes256-gcm96" && info.Type != "aes128-gcm96" && info.Type != "chacha20-poly1305":
		return nil, sdk.AttrError("key_name", "transit key %q has type %q, which cannot encrypt with derived keys; "+
			"name a new key (Vire creates it as aes256-gcm96)", c.key, info.Type)
	case info.Convergent:
		return nil, sdk.AttrError("key_name", "transit key %q uses convergent encryption, which makes equal data keys "+
			"wrap to equal ciphertexts; name a new key", c.key)
	}
	return info, nil
}

// opError turns a failed call into an error of the right sdk kind. version
// is the wrapped key's version for unwrap and rewrap.
func (c *client) opError(op string, err error, version ...uint32) error {
	var ae *apiError
	if !errors.As(err, &ae) {
		return fmt.Errorf("vault %s: %w", op, err)
	}
	msg := ae.message()
	switch {
	case ae.status == http.StatusNotFound:
		return fmt.Errorf("%w: vault %s: nothing is mounted at %q (vault said: %s); enable transit there with "+
			"`vault secrets enable -path=%s transit`, or fix mount/namespace", sdk.ErrUnavailable, op, c.mount, msg, c.mount)
	case ae.contains("encryption key not found") || ae.contains("key not found"):
		return fmt.Errorf("%w: vault %s: transit key %q no longer exists at mount %q; keys wrapped under it "+
			"cannot be opened until it is restored from a Vault backup", sdk.ErrUnavailable, op, c.key, c.mount)
	case ae.status == http.StatusBadRequest && len(version) > 0 && ae.contains(errTooOld):
		return fmt.Errorf("%w: vault %s: key version %d is below the transit key's min_decryption_version, so Vault "+
			"refuses it; lower it (`vault write %s/keys/%s/config min_decryption_version=%d`) and rewrap every wrapped key before raising it again",
			sdk.ErrIntegrity, op, version[0], c.mount, c.key, version[0])
	case ae.status == http.StatusBadRequest && len(version) > 0:
		return fmt.Errorf("%w: vault %s: the wrapped key does not open for this tenant: it was wrapped for another "+
			"tenant or key, or altered (vault said: %s)", sdk.ErrIntegrity, op, msg)
	case ae.status == http.StatusBadRequest:
		return fmt.Errorf("%w: vault %s: %s", sdk.ErrInvalidArgument, op, msg)
	}
	return fmt.Errorf("%w: vault %s: %v", sdk.ErrUnavailable, op, ae)
}

func isUnauthorized(err error) bool { return errors.Is(err, sdk.ErrUnauthorized) }
