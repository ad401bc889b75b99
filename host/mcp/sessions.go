package mcp

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"sync"

	mcpgo "github.com/mark3labs/mcp-go/mcp"
	mcpsrv "github.com/mark3labs/mcp-go/server"

	"github.com/vire-dev/vire/host/api"
)

// Session ids look like vire-<nonce>-<tag>: a random nonce and a digest
// binding it to the principal that opened the session. Anyone may open a
// session, so the tag needs no secret: what it prevents is one key using
// the id another key was given, and a key can only produce ids tagged for
// itself. Being checkable from the id alone, it works on every instance of
// a hosted deployment.
const (
	sessionPrefix = "vire-"
	nonceBytes    = 16
	tagBytes      = 16
	// maxEnded bounds the memory of ended sessions; the oldest are
	// forgotten first (their ids are then accepted again until a client
	// ends them anew, which is harmless: a session id grants nothing).
	maxEnded = 10000
)

var errForeignSession = errors.New("the session id is malformed or belongs to another API key")

// sessionBinder gives each request a session-id manager bound to the
// request's principal.
type sessionBinder struct {
	mu    sync.Mutex
	ended map[string]bool
	order []string
}

func newSessionBinder() *sessionBinder { return &sessionBinder{ended: map[string]bool{}} }

// ResolveSessionIdManager implements mcpsrv.SessionIdManagerResolver. r is
// nil when the transport ends idle sessions itself.
func (b *sessionBinder) ResolveSessionIdManager(r *http.Request) mcpsrv.SessionIdManager {
	if r == nil {
		return &boundSessions{b: b, internal: true}
	}
	owner := "\x00unauthenticated"
	if p, ok := api.PrincipalFrom(r.Context()); ok {
		owner = p.TenantID + "\x00" + p.KeyID
	}
	return &boundSessions{b: b, owner: owner}
}

func (b *sessionBinder) end(id string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ended[id] {
		return
	}
	if len(b.order) >= maxEnded {
		delete(b.ended, b.order[0])
		b.order = b.order[1:]
	}
	b.ended[id] = true
	b.order = append(b.order, id)
}

func (b *sessionBinder) isEnded(id string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.ended[id]
}

// boundSessions issues and checks the session ids of one principal.
type boundSessions struct {
	b        *sessionBinder
	owner    string
	internal bool // the transport's own housekeeping, bound to no principal
}

func tag(owner, nonce string) string {
	sum := sha256.Sum256([]byte("vire mcp session\x00" + owner + "\x00" + nonce))
	return hex.EncodeToString(sum[:tagBytes])
}

// Generate implements mcpsrv.SessionIdManager.
func (m *boundSessions) Generate() string {
	n := make([]byte, nonceBytes)
	_, _ = rand.Read(n)
	nonce := hex.EncodeToString(n)
	return sessionPrefix + nonce + "-" + tag(m.owner, nonce)
}

// owns reports whether id is a well-formed session id of this principal.
func (m *boundSessions) owns(id string) bool {
	rest, ok := strings.CutPrefix(id, sessionPrefix)
	if !ok {
		return false
	}
	nonce, got, ok := strings.Cut(rest, "-")
	if !ok || len(nonce) != 2*nonceBytes || len(got) != 2*tagBytes {
		return false
	}
	if _, err := hex.DecodeString(nonce); err != nil {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(got), []byte(tag(m.owner, nonce))) == 1
}

// Validate implements mcpsrv.SessionIdManager: an id issued to another
// principal is an error, which the transport answers with 404, as for an
// unknown session.
func (m *boundSessions) Validate(id string) (bool, error) {
	if !m.owns(id) {
		return false, errForeignSession
	}
	return m.b.isEnded(id), nil
}

// Terminate implements mcpsrv.SessionIdManager: a client may end only its
// own sessions.
func (m *boundSessions) Terminate(id string) (bool, error) {
	if !m.internal && !m.owns(id) {
		return true, nil
	}
	m.b.end(id)
	return false, nil
}

// guard refuses a request that carries a session id of another principal
// before the transport sees it. The transport checks ids on POST itself,
// but not on the GET that opens a session's event stream, which would
// otherwise deliver one key's session messages to another key.
// Requests of the stateless protocol have no sessions and are let through.
func (b *sessionBinder) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get(mcpsrv.HeaderKeySessionID)
		if id != "" && !mcpgo.IsModernProtocol(r.Header.Get(mcpgo.HeaderProtocolVersion)) {
			if m, ok := b.ResolveSessionIdManager(r).(*boundSessions); ok && !m.owns(id) {
				http.Error(w, "Invalid session ID: it was not issued to this API key", http.StatusNotFound)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}
