package faketransit

import (
	"net/http"
	"slices"
	"strings"
	"time"
)

// CreateToken issues a token holding the default policy and rules; ttl zero
// means it never expires.
func (s *Server) CreateToken(ttl time.Duration, rules ...Rule) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.issueLocked(ttl, rules).id
}

func (s *Server) issueLocked(ttl time.Duration, rules []Rule) *token {
	t := &token{id: "hvs." + randomID(16), accessor: randomID(12), rules: slices.Clone(rules), created: s.nowLocked(), ttl: ttl}
	s.tokens[t.id] = t
	s.lastIssued = t.id
	return t
}

// LastIssued returns the token most recently issued, by CreateToken or by
// an AppRole login.
func (s *Server) LastIssued() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastIssued
}

// Revoke makes a token invalid, as `vault token revoke` does.
func (s *Server) Revoke(tok string) { s.setRevoked(tok, true) }

// Restore undoes Revoke, which Vault cannot do; tests use it to check that a
// client recovers without being reconfigured.
func (s *Server) Restore(tok string) { s.setRevoked(tok, false) }

func (s *Server) setRevoked(tok string, revoked bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, ok := s.tokens[tok]; ok {
		t.revoked = revoked
	}
}

// AddAppRole registers an AppRole at auth/approle whose logins issue tokens
// living ttl (zero: forever) with the given rules.
func (s *Server) AddAppRole(roleID, secretID string, ttl time.Duration, rules ...Rule) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.roles[roleID] = &appRole{secretID: secretID, ttl: ttl, rules: slices.Clone(rules)}
}

// allowedLocked applies the token's policy: the most specific matching rule
// decides, as in Vault.
func (s *Server) allowedLocked(t *token, capability, path string) bool {
	if t.root {
		return true
	}
	best, bestLen := []string(nil), -1
	for _, r := range append(slices.Clone(defaultRules), t.rules...) {
		if n, m := ruleMatch(r.Path, path); m && n > bestLen {
			best, bestLen = r.Capabilities, n
		}
	}
	if slices.Contains(best, "deny") {
		return false
	}
	return slices.Contains(best, capability) || slices.Contains(best, "sudo") && capability == "sudo"
}

// ruleMatch reports whether a policy path matches and how specific the
// match is (an exact match beats any glob).
func ruleMatch(pattern, path string) (int, bool) {
	prefix := strings.HasSuffix(pattern, "*")
	pattern = strings.TrimSuffix(pattern, "*")
	ps, qs := strings.Split(pattern, "/"), strings.Split(path, "/")
	if !prefix && len(ps) != len(qs) || len(ps) > len(qs) {
		return 0, false
	}
	for i, p := range ps {
		last := i == len(ps)-1
		switch {
		case p == "+":
		case last && prefix:
			if !strings.HasPrefix(qs[i], p) {
				return 0, false
			}
		case p != qs[i]:
			return 0, false
		}
	}
	if prefix {
		return len(pattern), true
	}
	return len(pattern) + 1<<20, true
}

func (s *Server) lookupLocked(t *token) map[string]any {
	now := s.nowLocked()
	var expire any
	ttl := int64(0)
	if t.ttl > 0 {
		end := t.created.Add(t.ttl)
		expire = end.UTC().Format(time.RFC3339Nano)
		ttl = int64(end.Sub(now) / time.Second)
	}
	policies := []string{"default"}
	if t.root {
		policies = []string{"root"}
	}
	return map[string]any{
		"accessor": t.accessor, "creation_time": t.created.Unix(), "creation_ttl": int64(t.ttl / time.Second),
		"display_name": "token", "expire_time": expire, "id": t.id, "policies": policies,
		"renewable": t.ttl > 0, "ttl": ttl, "type": "service", "orphan": true,
	}
}

func (s *Server) appRoleLoginLocked(req *request) response {
	if req.method != "POST" {
		return fail(http.StatusMethodNotAllowed, "unsupported operation")
	}
	roleID, secretID := str(req.body, "role_id"), str(req.body, "secret_id")
	if roleID == "" {
		return badRequest("missing role_id")
	}
	role, found := s.roles[roleID]
	if !found || secretID == "" || secretID != role.secretID {
		return badRequest("invalid role or secret ID")
	}
	t := s.issueLocked(role.ttl, role.rules)
	return response{status: http.StatusOK, auth: map[string]any{
		"client_token": t.id, "accessor": t.accessor, "policies": []string{"default", "vire"},
		"token_policies": []string{"default", "vire"}, "metadata": map[string]any{"role_name": "vire"},
		"lease_duration": int64(role.ttl / time.Second), "renewable": true, "token_type": "service", "orphan": true,
	}}
}
