package pluginhost

import (
	"context"
	"crypto/sha256"
	"fmt"
	"hash"
	"sort"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/vire-dev/vire/sdk"
)

func newSHA256() hash.Hash { return sha256.New() }

// State is a plugin's lifecycle state as reported by Status.
type State string

const (
	StateRunning    State = "running"
	StateRestarting State = "restarting"
	StateFailed     State = "failed"
	StateStopped    State = "stopped"
)

// Plugin is one supervised plugin binary.
type Plugin struct {
	host *Host
	spec Spec
	log  hclog.Logger
	stop chan struct{}
	rmu  sync.Mutex // serialises restarts

	mu       sync.Mutex
	inst     *instance
	configs  map[sdk.ComponentKind]sdk.ConfigValue
	state    State
	restarts int
	failures int // consecutive failed restarts, for backoff
	lastErr  string
	stopped  bool
}

// Status is what /api/plugins reports about a plugin.
type Status struct {
	Name      string   `json:"name"`
	Role      string   `json:"role,omitempty"`
	Path      string   `json:"path"`
	Version   string   `json:"version"`
	Protocol  int      `json:"protocol_version"`
	Kinds     []string `json:"kinds"`
	State     State    `json:"status"`
	Restarts  int      `json:"restarts"`
	PID       int      `json:"pid,omitempty"`
	LastError string   `json:"last_error,omitempty"`
	Pinned    bool     `json:"pinned"`
}

// Description is the plugin's self-description from its last start.
func (p *Plugin) Description() sdk.Description {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.inst == nil {
		return sdk.Description{Name: p.spec.Name}
	}
	return p.inst.desc
}

// Status reports the plugin's state.
func (p *Plugin) Status() Status {
	p.mu.Lock()
	defer p.mu.Unlock()
	st := Status{Name: p.spec.Name, Role: p.spec.Role, Path: p.spec.Path, State: p.state, Restarts: p.restarts, LastError: p.lastErr, Pinned: p.spec.SHA256 != ""}
	if p.inst != nil {
		st.Version = p.inst.desc.Version
		st.Protocol = p.inst.desc.ProtocolVersion
		for _, c := range p.inst.desc.Components {
			st.Kinds = append(st.Kinds, string(c.Kind))
		}
		if rc := p.inst.client.ReattachConfig(); rc != nil && !p.inst.exited() {
			st.PID = rc.Pid
		}
	}
	sort.Strings(st.Kinds)
	return st
}

// Schema returns the config schema of one of the plugin's components.
func (p *Plugin) Schema(kind sdk.ComponentKind) (sdk.ConfigSchema, error) {
	for _, c := range p.Description().Components {
		if c.Kind == kind {
			return c.Schema, nil
		}
	}
	return sdk.ConfigSchema{}, fmt.Errorf("%w: plugin %s serves no %s component", sdk.ErrUnsupported, p.spec.Name, kind)
}

// current returns a running instance, restarting the plugin if it died.
// Restarts are serialised by rmu; mu is held only to read and write fields,
// so Status answers while a restart waits out its backoff.
func (p *Plugin) current(ctx context.Context) (*instance, error) {
	p.rmu.Lock()
	defer p.rmu.Unlock()
	p.mu.Lock()
	inst, stopped := p.inst, p.stopped
	p.mu.Unlock()
	if stopped {
		return nil, fmt.Errorf("%w: plugin %s is stopped", sdk.ErrUnavailable, p.spec.Name)
	}
	if inst != nil && !inst.exited() {
		return inst, nil
	}
	return p.restart(ctx, inst)
}

// restart replaces a dead instance; the caller holds rmu. Consecutive
// failures back off exponentially so a plugin that crashes at start does
// not spin.
func (p *Plugin) restart(ctx context.Context, dead *instance) (*instance, error) {
	if dead != nil {
		dead.kill()
	}
	p.mu.Lock()
	p.inst = nil
	p.state = StateRestarting
	failures := p.failures
	configs := make(map[sdk.ComponentKind]sdk.ConfigValue, len(p.configs))
	for k, v := range p.configs {
		configs[k] = v
	}
	p.mu.Unlock()
	if failures > 0 {
		wait := min(100*time.Millisecond<<min(failures-1, 16), p.host.opts.MaxBackoff)
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return nil, fmt.Errorf("%w: plugin %s is restarting: %v", sdk.ErrUnavailable, p.spec.Name, ctx.Err())
		case <-p.stop:
			return nil, fmt.Errorf("%w: plugin %s is stopped", sdk.ErrUnavailable, p.spec.Name)
		}
	}
	p.log.Warn("restarting plugin")
	inst, err := p.launch(ctx)
	if err == nil {
		if err = replay(ctx, p.spec.Name, inst, configs); err != nil {
			inst.kill()
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		p.failures++
		p.state = StateFailed
		p.lastErr = err.Error()
		p.log.Error("plugin restart failed", "error", err)
		return nil, err
	}
	if p.stopped {
		inst.kill()
		return nil, fmt.Errorf("%w: plugin %s is stopped", sdk.ErrUnavailable, p.spec.Name)
	}
	p.inst = inst
	p.restarts++
	p.failures = 0
	p.state = StateRunning
	p.lastErr = ""
	return inst, nil
}

// component returns the instance's client for a component kind, or nil.
func (i *instance) component(kind sdk.ComponentKind) sdk.Plugin {
	switch {
	case kind == sdk.KindStorage && i.blob != nil:
		return i.blob
	case kind == sdk.KindKeys && i.keys != nil:
		return i.keys
	case kind == sdk.KindSource && i.market != nil:
		return i.market
	case kind == sdk.KindSource && i.folio != nil:
		return i.folio
	}
	return nil
}

// replay configures a fresh instance the way the last one was.
func replay(ctx context.Context, name string, inst *instance, configs map[sdk.ComponentKind]sdk.ConfigValue) error {
	for kind, cfg := range configs {
		c := inst.component(kind)
		if c == nil {
			return fmt.Errorf("plugin %s no longer serves a %s component", name, kind)
		}
		full, err := c.Schema().Complete(cfg)
		if err == nil {
			err = c.Configure(ctx, full)
		}
		if err != nil {
			return fmt.Errorf("reconfiguring plugin %s after restart: %w", name, err)
		}
	}
	return nil
}

// do runs fn against a live instance. If the plugin dies during the call,
// it is restarted; an idempotent call is then retried once, any other call
// fails with ErrUnavailable saying its outcome is unknown.
func (p *Plugin) do(ctx context.Context, op string, idempotent bool, fn func(*instance) error) error {
	inst, err := p.current(ctx)
	if err != nil {
		return err
	}
	err = fn(inst)
	if err == nil || !(sdk.IsTransportError(err) || inst.exited()) || ctx.Err() != nil {
		return err
	}
	p.log.Error("plugin stopped during a call", "op", op, "error", err)
	p.mu.Lock()
	if p.inst == inst {
		p.inst.kill()
		p.inst = nil
	}
	p.mu.Unlock()
	if !idempotent {
		return fmt.Errorf("%w: plugin %s stopped during %s; it may or may not have taken effect, check before retrying: %v", sdk.ErrUnavailable, p.spec.Name, op, err)
	}
	inst, rerr := p.current(ctx)
	if rerr != nil {
		return rerr
	}
	return fn(inst)
}

func (p *Plugin) healthLoop(every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
		}
		// The budget covers a restart, which a health check may trigger.
		ctx, cancel := context.WithTimeout(context.Background(), every+p.host.opts.StartTimeout)
		err := p.Health(ctx)
		cancel()
		p.mu.Lock()
		switch {
		case err != nil && p.state == StateRunning:
			p.lastErr = err.Error()
		case err == nil:
			// A plugin that answers again is reported healthy again.
			p.lastErr = ""
		}
		p.mu.Unlock()
	}
}

// Health pings the plugin (restarting it when it has died) and asks every
// configured component for its health.
func (p *Plugin) Health(ctx context.Context) error {
	return p.do(ctx, "health", true, func(i *instance) error {
		if err := i.rpc.Ping(); err != nil {
			return &transportErr{err}
		}
		p.mu.Lock()
		kinds := make([]sdk.ComponentKind, 0, len(p.configs))
		for k := range p.configs {
			kinds = append(kinds, k)
		}
		p.mu.Unlock()
		for _, k := range kinds {
			if c := i.component(k); c != nil {
				if err := c.Health(ctx); err != nil {
					return fmt.Errorf("plugin %s %s: %w", p.spec.Name, k, err)
				}
			}
		}
		return nil
	})
}

type transportErr struct{ err error }

func (e *transportErr) Error() string { return "plugin unreachable: " + e.err.Error() }
func (e *transportErr) Unwrap() error { return sdk.ErrUnavailable }

func (p *Plugin) shutdown() {
	p.mu.Lock()
	if p.stopped {
		p.mu.Unlock()
		return
	}
	p.stopped = true
	close(p.stop)
	inst := p.inst
	p.inst = nil
	p.state = StateStopped
	p.mu.Unlock()
	if inst != nil {
		inst.kill()
	}
}

// PID returns the running process id, or 0.
func (p *Plugin) PID() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.inst == nil {
		return 0
	}
	if rc := p.inst.client.ReattachConfig(); rc != nil {
		return rc.Pid
	}
	return 0
}

func (p *Plugin) configure(ctx context.Context, kind sdk.ComponentKind, cfg sdk.ConfigValue) error {
	err := p.do(ctx, "configure", true, func(i *instance) error {
		c := i.component(kind)
		if c == nil {
			return fmt.Errorf("%w: plugin %s serves no %s component", sdk.ErrUnsupported, p.spec.Name, kind)
		}
		full, err := c.Schema().Complete(cfg)
		if err != nil {
			return err
		}
		return c.Configure(ctx, full)
	})
	if err != nil {
		return err
	}
	p.mu.Lock()
	p.configs[kind] = cfg
	p.mu.Unlock()
	return nil
}
