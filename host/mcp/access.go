package mcp

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"

	mcpsrv "github.com/mark3labs/mcp-go/server"

	"github.com/vire-dev/vire/host/api"
	"github.com/vire-dev/vire/host/tenant"
)

// MetadataPath is where the RFC 9728 protected-resource metadata is
// published; it is also served at MetadataPath+EndpointPath, the path
// RFC 9728 derives from the resource URL.
const MetadataPath = mcpsrv.WellKnownProtectedResourcePath

// Front wraps the server's whole handler (the REST router behind its
// access layer): it serves the protected-resource metadata without
// authentication, refuses /mcp requests from origins that are not allowed
// before anything else runs, and adds resource_metadata to the 401
// challenges the access layer sends for /mcp, which is how an MCP client
// finds out how to authenticate.
func (s *Server) Front(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case MetadataPath, MetadataPath + EndpointPath:
			s.serveMetadata(w, r)
		case EndpointPath:
			if origin := r.Header.Get("Origin"); origin != "" && !s.originAllowed(origin, r.Host) {
				s.log.Info("refused an MCP request from a foreign origin", "origin", clip(origin))
				api.WriteError(w, http.StatusForbidden, "origin_not_allowed",
					fmt.Sprintf("requests from origin %q may not use this MCP endpoint", clip(origin)), nil)
				return
			}
			next.ServeHTTP(&challenger{ResponseWriter: w, metadata: s.baseURL(r) + MetadataPath}, r)
		default:
			next.ServeHTTP(w, r)
		}
	})
}

// baseURL is the server's external URL: PublicURL, or the request's.
func (s *Server) baseURL(r *http.Request) string {
	if s.o.PublicURL != "" {
		return strings.TrimRight(s.o.PublicURL, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// serveMetadata answers with the protected-resource metadata (RFC 9728):
// the resource is the MCP endpoint, tokens are Vire API keys sent as
// bearer tokens in the Authorization header, with scopes read and write.
// Keys are issued by the operator, so no authorization server is named.
func (s *Server) serveMetadata(w http.ResponseWriter, r *http.Request) {
	mcpsrv.NewProtectedResourceMetadataHandler(mcpsrv.ProtectedResourceMetadataConfig{
		Resource:               s.baseURL(r) + EndpointPath,
		ResourceName:           "Vire",
		BearerMethodsSupported: []string{"header"},
		ScopesSupported:        []string{string(tenant.ScopeRead), string(tenant.ScopeWrite)},
	}).ServeHTTP(w, r)
}

// challenger adds the metadata URL to a 401's WWW-Authenticate challenge.
type challenger struct {
	http.ResponseWriter
	metadata    string
	wroteHeader bool
}

func (c *challenger) WriteHeader(code int) {
	if !c.wroteHeader && code == http.StatusUnauthorized {
		h := c.Header()
		param := fmt.Sprintf("resource_metadata=%q", c.metadata)
		rest, ok := strings.CutPrefix(h.Get("WWW-Authenticate"), "Bearer ")
		if ok && rest != "" {
			h.Set("WWW-Authenticate", "Bearer "+param+", "+rest)
		} else {
			h.Set("WWW-Authenticate", "Bearer "+param)
		}
	}
	c.wroteHeader = true
	c.ResponseWriter.WriteHeader(code)
}

func (c *challenger) Write(b []byte) (int, error) {
	c.wroteHeader = true
	return c.ResponseWriter.Write(b)
}

// Flush lets server-sent events through.
func (c *challenger) Flush() { _ = http.NewResponseController(c.ResponseWriter).Flush() }

// Unwrap gives http.ResponseController the underlying writer.
func (c *challenger) Unwrap() http.ResponseWriter { return c.ResponseWriter }

// parseOrigins normalises the configured origins to scheme://host[:port].
func parseOrigins(list []string) (map[string]bool, error) {
	out := map[string]bool{}
	for _, o := range list {
		n, ok := normOrigin(o)
		if !ok {
			return nil, fmt.Errorf("mcp: allowed origin %q: want scheme://host[:port], e.g. https://app.example.com", o)
		}
		out[n] = true
	}
	return out, nil
}

func normOrigin(o string) (string, bool) {
	u, err := url.Parse(strings.TrimSpace(o))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.User != nil {
		return "", false
	}
	return strings.ToLower(u.Scheme + "://" + u.Host), true
}

// originAllowed reports whether a browser page of origin may call the
// endpoint served at host: its own origin always, then the configured
// origins, or loopback origins when none are configured. "null" and
// anything malformed are refused.
func (s *Server) originAllowed(origin, host string) bool {
	n, ok := normOrigin(origin)
	if !ok {
		return false
	}
	u, _ := url.Parse(n)
	if strings.EqualFold(u.Host, host) {
		return true
	}
	if len(s.origins) > 0 {
		return s.origins[n]
	}
	return isLoopback(u.Hostname())
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	ip, err := netip.ParseAddr(strings.Trim(host, "[]"))
	return err == nil && ip.IsLoopback()
}

// clip shortens caller-supplied text quoted in a log line or error.
func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}
