package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/gorilla/mux"
	"github.com/hashicorp/go-hclog"

	"github.com/vire-dev/vire/host/tenant"
	"github.com/vire-dev/vire/sdk"
)

// KeyWarning accompanies every newly created API key.
const KeyWarning = "Store this key now: it is shown only once and cannot be recovered."

// MountWhoami adds GET /api/whoami, which answers with the caller's
// principal (tenant, key id, scopes) to any authenticated key. Protect must
// guard the router. MountAdmin includes it: a server calls one or the
// other (personal servers have no admin API).
func MountWhoami(r *mux.Router) {
	r.HandleFunc("/api/whoami", whoami).Methods(http.MethodGet)
}

// MountAdmin adds the tenant and API-key administration endpoints under
// /api/admin (the admin scope; see tenant.Admin for who may do what) and
// GET /api/whoami (any authenticated key) to the router. Protect must guard
// the router.
//
//	GET    /api/whoami                                   the caller's principal
//	GET    /api/admin/tenants                            list tenants (operator)
//	POST   /api/admin/tenants                            create {"id","name"} (operator)
//	GET    /api/admin/tenants/{tenant}                   one tenant
//	DELETE /api/admin/tenants/{tenant}                   delete it and all its data (operator)
//	POST   /api/admin/tenants/{tenant}/suspend|resume    (operator)
//	GET    /api/admin/tenants/{tenant}/keys              list keys
//	POST   /api/admin/tenants/{tenant}/keys              create {"name","scopes","expires"|"expires_in"}
//	GET    /api/admin/tenants/{tenant}/keys/{key}        one key
//	DELETE /api/admin/tenants/{tenant}/keys/{key}        revoke
//	POST   /api/admin/tenants/{tenant}/keys/{key}/rotate rotate {"grace"}
//	...    /api/admin/keys[/{key}[/rotate]]              the same for the caller's own tenant
func MountAdmin(r *mux.Router, svc *tenant.Service, log hclog.Logger) {
	if log == nil {
		log = hclog.NewNullLogger()
	}
	h := &admin{svc: svc, log: log.Named("admin")}
	MountWhoami(r)
	a := r.PathPrefix("/api/admin").Subrouter()
	a.HandleFunc("/tenants", h.listTenants).Methods(http.MethodGet)
	a.HandleFunc("/tenants", h.createTenant).Methods(http.MethodPost)
	a.HandleFunc("/tenants/{tenant}", h.getTenant).Methods(http.MethodGet)
	a.HandleFunc("/tenants/{tenant}", h.deleteTenant).Methods(http.MethodDelete)
	a.HandleFunc("/tenants/{tenant}/suspend", h.suspendTenant).Methods(http.MethodPost)
	a.HandleFunc("/tenants/{tenant}/resume", h.resumeTenant).Methods(http.MethodPost)
	for _, prefix := range []string{"/tenants/{tenant}/keys", "/keys"} {
		a.HandleFunc(prefix, h.listKeys).Methods(http.MethodGet)
		a.HandleFunc(prefix, h.createKey).Methods(http.MethodPost)
		a.HandleFunc(prefix+"/{key}", h.getKey).Methods(http.MethodGet)
		a.HandleFunc(prefix+"/{key}", h.revokeKey).Methods(http.MethodDelete)
		a.HandleFunc(prefix+"/{key}/rotate", h.rotateKey).Methods(http.MethodPost)
	}
}

type admin struct {
	svc *tenant.Service
	log hclog.Logger
}

// as returns the service as the request's principal sees it, and the
// tenant the request is about: the {tenant} of the path, or on the /keys
// shortcuts the principal's own.
func (h *admin) as(r *http.Request) (tenant.Admin, string, bool) {
	p, ok := PrincipalFrom(r.Context())
	if !ok {
		return tenant.Admin{}, "", false
	}
	t := mux.Vars(r)["tenant"]
	if t == "" {
		t = p.TenantID
	}
	return h.svc.As(p), t, true
}

// run answers 401 without a principal, the service error if fn fails, and
// otherwise status with fn's result.
func (h *admin) run(w http.ResponseWriter, r *http.Request, status int, fn func(a tenant.Admin, t string) (any, error)) {
	w.Header().Set("Cache-Control", "no-store")
	a, t, ok := h.as(r)
	if !ok {
		WriteError(w, http.StatusUnauthorized, "unauthenticated", "authentication required", nil)
		return
	}
	v, err := fn(a, t)
	if err != nil {
		serviceError(w, r, h.log, err)
		return
	}
	WriteJSON(w, status, v)
}

func whoami(w http.ResponseWriter, r *http.Request) {
	p, ok := PrincipalFrom(r.Context())
	if !ok {
		WriteError(w, http.StatusUnauthorized, "unauthenticated", "authentication required", nil)
		return
	}
	WriteJSON(w, http.StatusOK, p)
}

// decode reads a small JSON body into dst; an empty body leaves dst alone.
func decode(r *http.Request, dst any) error {
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("the request body is not valid: %v: %w", err, sdk.ErrInvalidArgument)
	}
	return nil
}

func (h *admin) listTenants(w http.ResponseWriter, r *http.Request) {
	h.run(w, r, http.StatusOK, func(a tenant.Admin, _ string) (any, error) {
		ts, err := a.ListTenants(r.Context())
		if ts == nil {
			ts = []tenant.Tenant{}
		}
		return map[string]any{"tenants": ts}, err
	})
}

func (h *admin) createTenant(w http.ResponseWriter, r *http.Request) {
	h.run(w, r, http.StatusCreated, func(a tenant.Admin, _ string) (any, error) {
		var body struct {
			ID   string `json:"id"`
			Name string `json:"name"`
		}
		if err := decode(r, &body); err != nil {
			return nil, err
		}
		return a.CreateTenant(r.Context(), body.ID, body.Name)
	})
}

func (h *admin) getTenant(w http.ResponseWriter, r *http.Request) {
	h.run(w, r, http.StatusOK, func(a tenant.Admin, t string) (any, error) { return a.GetTenant(r.Context(), t) })
}

func (h *admin) deleteTenant(w http.ResponseWriter, r *http.Request) {
	h.run(w, r, http.StatusOK, func(a tenant.Admin, t string) (any, error) { return a.DeleteTenant(r.Context(), t) })
}

func (h *admin) suspendTenant(w http.ResponseWriter, r *http.Request) {
	h.run(w, r, http.StatusOK, func(a tenant.Admin, t string) (any, error) { return a.SuspendTenant(r.Context(), t) })
}

func (h *admin) resumeTenant(w http.ResponseWriter, r *http.Request) {
	h.run(w, r, http.StatusOK, func(a tenant.Admin, t string) (any, error) { return a.ResumeTenant(r.Context(), t) })
}

// keyView is a key as the API shows it, with its state now.
type keyView struct {
	tenant.KeyInfo
	State string `json:"state"`
}

func view(k tenant.KeyInfo) keyView { return keyView{KeyInfo: k, State: k.State(time.Now())} }

// newKeyView is a key just created: the only response that holds a key.
type newKeyView struct {
	Key     string  `json:"key"`
	Info    keyView `json:"info"`
	Warning string  `json:"warning"`
}

func (h *admin) listKeys(w http.ResponseWriter, r *http.Request) {
	h.run(w, r, http.StatusOK, func(a tenant.Admin, t string) (any, error) {
		keys, err := a.ListKeys(r.Context(), t)
		out := make([]keyView, 0, len(keys))
		for _, k := range keys {
			out = append(out, view(k))
		}
		return map[string]any{"keys": out}, err
	})
}

func (h *admin) createKey(w http.ResponseWriter, r *http.Request) {
	h.run(w, r, http.StatusCreated, func(a tenant.Admin, t string) (any, error) {
		var body struct {
			Name      string         `json:"name"`
			Scopes    []tenant.Scope `json:"scopes"`
			Expires   time.Time      `json:"expires"`
			ExpiresIn string         `json:"expires_in"`
		}
		if err := decode(r, &body); err != nil {
			return nil, err
		}
		spec := tenant.KeySpec{Name: body.Name, Scopes: body.Scopes, Expires: body.Expires}
		if body.ExpiresIn != "" {
			d, err := time.ParseDuration(body.ExpiresIn)
			if err != nil || d <= 0 || !body.Expires.IsZero() {
				return nil, fmt.Errorf("expires_in must be a positive duration such as \"720h\", and not given with expires: %w", sdk.ErrInvalidArgument)
			}
			spec.Expires = time.Now().Add(d)
		}
		nk, err := a.CreateKey(r.Context(), t, spec)
		if err != nil {
			return nil, err
		}
		return newKeyView{Key: nk.Key, Info: view(nk.Info), Warning: KeyWarning}, nil
	})
}

func (h *admin) getKey(w http.ResponseWriter, r *http.Request) {
	h.run(w, r, http.StatusOK, func(a tenant.Admin, t string) (any, error) {
		k, err := a.GetKey(r.Context(), t, mux.Vars(r)["key"])
		return view(k), err
	})
}

func (h *admin) revokeKey(w http.ResponseWriter, r *http.Request) {
	h.run(w, r, http.StatusOK, func(a tenant.Admin, t string) (any, error) {
		k, err := a.RevokeKey(r.Context(), t, mux.Vars(r)["key"])
		return view(k), err
	})
}

func (h *admin) rotateKey(w http.ResponseWriter, r *http.Request) {
	h.run(w, r, http.StatusCreated, func(a tenant.Admin, t string) (any, error) {
		var body struct {
			Grace string `json:"grace"`
		}
		if err := decode(r, &body); err != nil {
			return nil, err
		}
		var o tenant.RotateOptions
		if body.Grace != "" {
			d, err := time.ParseDuration(body.Grace)
			if err != nil || d < 0 {
				return nil, fmt.Errorf("grace must be a duration such as \"24h\": %w", sdk.ErrInvalidArgument)
			}
			o.Grace = d
		}
		nk, err := a.RotateKey(r.Context(), t, mux.Vars(r)["key"], o)
		if err != nil {
			return nil, err
		}
		return newKeyView{Key: nk.Key, Info: view(nk.Info), Warning: KeyWarning}, nil
	})
}
