package faketransit

import (
	"encoding/pem"
	"maps"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// kvEntry is one KV v2 secret with its versions, oldest first.
type kvEntry struct {
	versions []kvVersion
}

type kvVersion struct {
	data    map[string]any
	created time.Time
}

// PutKV writes a new version of the secret at path in the secret/ mount,
// as `vault kv put secret/<path>` does.
func (s *Server) PutKV(path string, data map[string]any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.putKVLocked("secret/"+strings.Trim(path, "/"), data)
}

func (s *Server) putKVLocked(id string, data map[string]any) int {
	e := s.kv[id]
	if e == nil {
		e = &kvEntry{}
		s.kv[id] = e
	}
	e.versions = append(e.versions, kvVersion{data: maps.Clone(data), created: s.nowLocked()})
	return len(e.versions)
}

// kvLocked serves <mount>/data/<path> of a KV v2 mount.
func (s *Server) kvLocked(req *request, mount, rest string) response {
	path, found := strings.CutPrefix(rest, "data/")
	if !found || path == "" {
		return fail(http.StatusNotFound, "1 error occurred:\n\t* unsupported path\n\n")
	}
	id := mount + "/" + path
	e := s.kv[id]
	switch req.method {
	case "GET":
		if !s.allowedLocked(req.tok, "read", req.path) {
			return s.deniedLocked()
		}
		if e == nil {
			return fail(http.StatusNotFound)
		}
		n := len(e.versions)
		if v, set := versionQuery(req.query); set && v > 0 {
			n = v
		}
		if n < 1 || n > len(e.versions) {
			return fail(http.StatusNotFound)
		}
		v := e.versions[n-1]
		return ok(map[string]any{"data": v.data, "metadata": kvMeta(v, n)})
	case "POST":
		capability := "update"
		if e == nil {
			capability = "create"
		}
		if !s.allowedLocked(req.tok, capability, req.path) {
			return s.deniedLocked()
		}
		data, isMap := req.body["data"].(map[string]any)
		if !isMap {
			return badRequest("no data provided")
		}
		n := s.putKVLocked(id, data)
		return ok(kvMeta(s.kv[id].versions[n-1], n))
	}
	return fail(http.StatusMethodNotAllowed, "1 error occurred:\n\t* unsupported operation\n\n")
}

func kvMeta(v kvVersion, n int) map[string]any {
	return map[string]any{
		"created_time": v.created.UTC().Format(time.RFC3339Nano), "custom_metadata": nil,
		"deletion_time": "", "destroyed": false, "version": n,
	}
}

// versionQuery lets GET secret/data/x?version=N pick a version.
func versionQuery(q map[string][]string) (int, bool) {
	v := q["version"]
	if len(v) == 0 {
		return 0, false
	}
	n, err := strconv.Atoi(v[0])
	return n, err == nil
}

func pemCert(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}
