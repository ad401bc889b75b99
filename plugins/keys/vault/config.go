package vault

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/vire-dev/vire/sdk"
)

const (
	defaultMount      = "transit"
	defaultKeyName    = "vire"
	defaultTimeout    = "10s"
	defaultMaxRetries = 2
	maxRetriesLimit   = 10
	maxTimeout        = 5 * time.Minute
)

var (
	// keyNameRE is the key name Vault's transit routes accept.
	keyNameRE = regexp.MustCompile(`^\w(([\w\-.@]+)?\w)?$`)
	// segmentRE is one segment of a mount path or namespace.
	segmentRE = regexp.MustCompile(`^[A-Za-z0-9_.\-]+$`)
)

// schema is the provider's configuration.
func schema() sdk.ConfigSchema {
	return sdk.ConfigSchema{Attributes: []sdk.Attribute{
		{Name: "address", Type: sdk.TypeString, Required: true,
			Description: "Vault's address, e.g. https://vault.example.com:8200 (http:// only for a local development server)."},
		{Name: "token", Type: sdk.TypeString, Sensitive: true,
			Description: "A Vault token allowed to use the transit key (see the policy in docs/keys.md). Set this, or role_id and secret_id."},
		{Name: "role_id", Type: sdk.TypeString,
			Description: "AppRole role_id; with secret_id, Vire logs in at auth/approle/login and logs in again before the token expires."},
		{Name: "secret_id", Type: sdk.TypeString, Sensitive: true,
			Description: "AppRole secret_id for role_id."},
		{Name: "mount", Type: sdk.TypeString, Default: defaultMount,
			Description: "Path at which the transit secrets engine is mounted."},
		{Name: "key_name", Type: sdk.TypeString, Default: defaultKeyName,
			Description: "Transit key wrapping every tenant's data keys; created (aes256-gcm96, derived) when missing and the token may create it. " +
				"Each tenant gets its own key derived from it; rotation is per key name, shared by all tenants."},
		{Name: "namespace", Type: sdk.TypeString,
			Description: "Vault Enterprise namespace, sent as X-Vault-Namespace."},
		{Name: "ca_cert", Type: sdk.TypeString,
			Description: "PEM CA certificate(s) that sign Vault's certificate: a file path, or the PEM text itself."},
		{Name: "tls_server_name", Type: sdk.TypeString,
			Description: "Name to verify Vault's certificate against when it differs from the address's host."},
		{Name: "tls_skip_verify", Type: sdk.TypeBool, Default: false,
			Description: "Do not verify Vault's certificate. Anyone on the network path could then read every data key: use ca_cert instead."},
		{Name: "timeout", Type: sdk.TypeString, Default: defaultTimeout,
			Description: "Time allowed for one request to Vault, as a Go duration (10s, 1m)."},
		{Name: "max_retries", Type: sdk.TypeNumber, Default: defaultMaxRetries,
			Description: "Retries after a connection error or a 5xx/429 answer, with backoff, before the call fails as unavailable."},
	}}
}

// settings is a validated configuration.
type settings struct {
	address       *url.URL
	token         string
	roleID        string
	secretID      string
	mount         string
	keyName       string
	namespace     string
	caCert        string
	tlsServerName string
	skipVerify    bool
	timeout       time.Duration
	maxRetries    int
}

// parseSettings validates a configuration. Values missing from cfg take the
// schema's defaults, so a caller that skipped schema.Complete still works.
// Errors name the attribute and never quote a sensitive value.
func parseSettings(cfg sdk.ConfigValue) (settings, error) {
	var errs sdk.ConfigErrors
	add := func(attr, format string, args ...any) {
		errs = append(errs, sdk.ConfigError{Attribute: attr, Message: fmt.Sprintf(format, args...)})
	}
	str := func(name, def string) string {
		v, present := cfg[name]
		if !present || v == nil {
			return def
		}
		s, isString := v.(string)
		if !isString {
			add(name, "must be a string")
		}
		return strings.TrimSpace(s)
	}
	s := settings{
		token:         str("token", ""),
		roleID:        str("role_id", ""),
		secretID:      str("secret_id", ""),
		mount:         strings.Trim(str("mount", defaultMount), "/"),
		keyName:       str("key_name", defaultKeyName),
		namespace:     strings.Trim(str("namespace", ""), "/"),
		caCert:        str("ca_cert", ""),
		tlsServerName: str("tls_server_name", ""),
		maxRetries:    defaultMaxRetries,
	}

	addr := str("address", "")
	if u, err := parseAddress(addr); err != nil {
		add("address", "%v", err)
	} else {
		s.address = u
	}

	switch {
	case s.token != "" && (s.roleID != "" || s.secretID != ""):
		add("token", "set either token or role_id and secret_id, not both")
	case s.token == "" && s.roleID == "" && s.secretID == "":
		add("token", "is not set: give a Vault token, or role_id and secret_id for an AppRole login")
	case s.token == "" && s.roleID == "":
		add("role_id", "is not set; an AppRole login needs role_id with secret_id")
	case s.token == "" && s.secretID == "":
		add("secret_id", "is not set; an AppRole login needs secret_id with role_id")
	}
	if strings.ContainsAny(s.token, "\r\n") {
		add("token", "contains a line break; check how the variable is read")
	}

	if s.mount == "" || !validPath(s.mount) {
		add("mount", "must be a mount path such as \"transit\" or \"kms/transit\" (letters, digits, '_', '-', '.', separated by '/')")
	}
	if !keyNameRE.MatchString(s.keyName) {
		add("key_name", "must start and end with a letter, digit or '_' and hold only those, '-', '.' and '@'")
	}
	if s.namespace != "" && !validPath(s.namespace) {
		add("namespace", "must be a namespace path such as \"team-a\" or \"org/team-a\"")
	}

	if v, present := cfg["tls_skip_verify"]; present && v != nil {
		b, isBool := v.(bool)
		if !isBool {
			add("tls_skip_verify", "must be true or false")
		}
		s.skipVerify = b
	}

	timeout := str("timeout", defaultTimeout)
	if d, err := time.ParseDuration(timeout); err != nil || d <= 0 || d > maxTimeout {
		add("timeout", "must be a duration between 1ms and %s, such as \"10s\"", maxTimeout)
	} else {
		s.timeout = d
	}

	if v, present := cfg["max_retries"]; present && v != nil {
		n := sdk.ConfigValue{"n": v}.Number("n")
		_, isString := v.(string)
		if isString || n != float64(int(n)) || n < 0 || n > maxRetriesLimit {
			add("max_retries", "must be a whole number from 0 to %d", maxRetriesLimit)
		} else {
			s.maxRetries = int(n)
		}
	}

	if len(errs) > 0 {
		return settings{}, errs
	}
	return s, nil
}

func validPath(p string) bool {
	for seg := range strings.SplitSeq(p, "/") {
		if !segmentRE.MatchString(seg) {
			return false
		}
	}
	return true
}

// parseAddress accepts http(s)://host[:port][/prefix]. The errors never
// quote the value, which might hold credentials in its user-info part.
func parseAddress(addr string) (*url.URL, error) {
	if addr == "" {
		return nil, fmt.Errorf("is not set; give Vault's address, e.g. https://vault.example.com:8200")
	}
	u, err := url.Parse(addr)
	if err != nil {
		return nil, fmt.Errorf("is not a valid URL")
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("must start with https:// (or http:// for a local development server)")
	case u.Host == "" || u.Hostname() == "":
		return nil, fmt.Errorf("has no host")
	case u.User != nil:
		return nil, fmt.Errorf("must not hold a user name or password; authenticate with token or role_id/secret_id")
	case u.RawQuery != "" || u.Fragment != "" || u.ForceQuery:
		return nil, fmt.Errorf("must not have a query or fragment")
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawPath = ""
	return u, nil
}

// isLoopback reports whether host names this machine, where plain http
// does not expose anything.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// httpClient builds the client for s. A standby Vault may redirect to the
// active node; the redirect is followed (it carries the token, as Vault's own
// client does) only a few times and never from https to http.
func (s settings) httpClient() (*http.Client, error) {
	// InsecureSkipVerify is the operator's explicit choice, warned about at
	// every Configure.
	tc := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: s.tlsServerName, InsecureSkipVerify: s.skipVerify}
	if s.caCert != "" {
		pemBytes := []byte(s.caCert)
		if !strings.Contains(s.caCert, "-----BEGIN") {
			b, err := os.ReadFile(s.caCert)
			if err != nil {
				return nil, sdk.AttrError("ca_cert", "cannot read the CA file: %v", err)
			}
			pemBytes = b
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pemBytes) {
			return nil, sdk.AttrError("ca_cert", "holds no PEM certificate")
		}
		tc.RootCAs = pool
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = tc
	tr.MaxIdleConnsPerHost = 16
	return &http.Client{
		Transport: tr,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 3 || req.URL.Scheme != via[0].URL.Scheme {
				return http.ErrUseLastResponse
			}
			return nil
		},
	}, nil
}
