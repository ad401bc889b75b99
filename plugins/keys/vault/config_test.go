package vault

import (
	"errors"
	"strings"
	"testing"

	"github.com/vire-dev/vire/sdk"
)

func TestSchema(t *testing.T) {
	s := New(nil).Schema()
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"token", "secret_id"} {
		if a, _ := s.Attribute(name); !a.Sensitive {
			t.Errorf("%s is not marked sensitive", name)
		}
	}
	full, err := s.Complete(sdk.ConfigValue{"address": "https://vault:8200", "token": "t"})
	if err != nil {
		t.Fatal(err)
	}
	st, err := parseSettings(full)
	if err != nil {
		t.Fatal(err)
	}
	if st.mount != "transit" || st.keyName != "vire" || st.timeout.String() != "10s" || st.maxRetries != 2 || st.skipVerify {
		t.Errorf("defaults: %+v", st)
	}
}

func TestConfigErrors(t *testing.T) {
	const secret = "hvs.SECRETSECRETSECRET"
	base := func(kv ...any) sdk.ConfigValue {
		c := sdk.ConfigValue{"address": "https://vault.example.com:8200", "token": secret}
		for i := 0; i+1 < len(kv); i += 2 {
			c[kv[i].(string)] = kv[i+1]
		}
		return c
	}
	for _, tc := range []struct {
		name    string
		cfg     sdk.ConfigValue
		attr    string
		message string
	}{
		{"no address", sdk.ConfigValue{"token": secret}, "address", "not set"},
		{"bad scheme", base("address", "vault.example.com:8200"), "address", "https://"},
		{"ftp", base("address", "ftp://vault.example.com"), "address", "https://"},
		{"no host", base("address", "https://"), "address", "no host"},
		{"user info", base("address", "https://root:"+secret+"@vault.example.com"), "address", "user name or password"},
		{"query", base("address", "https://vault.example.com/?x=1"), "address", "query"},
		{"no credentials", sdk.ConfigValue{"address": "https://v"}, "token", "role_id and secret_id"},
		{"both", base("role_id", "r", "secret_id", "s"), "token", "not both"},
		{"role without secret", sdk.ConfigValue{"address": "https://v", "role_id": "r"}, "secret_id", "not set"},
		{"secret without role", sdk.ConfigValue{"address": "https://v", "secret_id": secret}, "role_id", "not set"},
		{"token with newline", base("token", secret+"\nx"), "token", "line break"},
		{"token not a string", base("token", 42.0), "token", "string"},
		{"bad mount", base("mount", "trans it"), "mount", "mount path"},
		{"empty mount", base("mount", "/"), "mount", "mount path"},
		{"bad key name", base("key_name", "-vire"), "key_name", "start and end"},
		{"key name with slash", base("key_name", "a/b"), "key_name", "start and end"},
		{"bad namespace", base("namespace", "a b"), "namespace", "namespace path"},
		{"bad timeout", base("timeout", "soon"), "timeout", "duration"},
		{"zero timeout", base("timeout", "0s"), "timeout", "duration"},
		{"huge timeout", base("timeout", "1h"), "timeout", "duration"},
		{"negative retries", base("max_retries", -1.0), "max_retries", "whole number"},
		{"fractional retries", base("max_retries", 1.5), "max_retries", "whole number"},
		{"too many retries", base("max_retries", 11.0), "max_retries", "whole number"},
		{"retries as string", base("max_retries", "2"), "max_retries", "whole number"},
		{"skip verify not bool", base("tls_skip_verify", "yes"), "tls_skip_verify", "true or false"},
		{"ca file missing", base("ca_cert", "/nonexistent/ca.pem"), "ca_cert", "cannot read"},
		{"ca not pem", base("ca_cert", "-----BEGIN nothing"), "ca_cert", "no PEM certificate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := New(nil)
			err := p.Configure(t.Context(), tc.cfg)
			var ce sdk.ConfigErrors
			if !errors.As(err, &ce) || !errors.Is(err, sdk.ErrInvalidConfig) {
				t.Fatalf("Configure = %v, want sdk.ConfigErrors", err)
			}
			found := false
			for _, e := range ce {
				if e.Attribute == tc.attr && strings.Contains(e.Message, tc.message) {
					found = true
				}
			}
			if !found {
				t.Errorf("errors %v lack %s: …%s…", ce, tc.attr, tc.message)
			}
			if strings.Contains(err.Error(), "SECRETSECRET") {
				t.Errorf("error quotes the token: %v", err)
			}
			if _, err := p.Wrap(t.Context(), "acme", newDEK(t)); !errors.Is(err, sdk.ErrUnavailable) {
				t.Errorf("Wrap after a rejected configuration = %v, want ErrUnavailable", err)
			}
		})
	}
}

func TestParseAddress(t *testing.T) {
	for in, want := range map[string]string{
		"https://vault:8200":               "https://vault:8200",
		"https://vault:8200/":              "https://vault:8200",
		"http://127.0.0.1:8200":            "http://127.0.0.1:8200",
		"https://proxy.example.com/vault/": "https://proxy.example.com/vault",
	} {
		u, err := parseAddress(in)
		if err != nil || u.String() != want {
			t.Errorf("parseAddress(%q) = %v, %v; want %s", in, u, err, want)
		}
	}
	for host, want := range map[string]bool{"localhost": true, "127.0.0.1": true, "::1": true, "10.0.0.1": false, "vault": false} {
		if isLoopback(host) != want {
			t.Errorf("isLoopback(%q) != %v", host, want)
		}
	}
}
