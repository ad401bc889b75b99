// Package pluginhost starts Vire plugin binaries, keeps them running and
// hands the host sdk interfaces that hide the process boundary.
//
// Every plugin runs as a hashicorp/go-plugin subprocess speaking gRPC with
// automatic mutual TLS. The host verifies an optional sha256 pin before every
// start, launches the binary directly (never through a shell) with only an
// allow-listed environment, restarts a crashed plugin with backoff and
// replays its configuration, and retries an idempotent call once across a
// restart. Plugins die with the host: a parent-death signal on Linux and the
// SDK's parent watchdog cover a host that is SIGKILLed.
package pluginhost

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/vire-dev/vire/sdk"
)

// Options configure a Host.
type Options struct {
	// Logger receives the host's plugin logs and every plugin's own log
	// lines, named after the plugin binary.
	Logger hclog.Logger
	// HealthInterval is how often running plugins are pinged; 0 means 5s,
	// negative disables the health loop.
	HealthInterval time.Duration
	// StartTimeout bounds one plugin start; 0 means 10s.
	StartTimeout time.Duration
	// MaxBackoff caps the wait between restarts of a crashing plugin; 0 means 30s.
	MaxBackoff time.Duration
	// Environ is the environment allow-listed variables are taken from; nil
	// means os.Environ().
	Environ []string
}

// BaseEnv is passed to every plugin when set in the host's environment.
// Anything else must be allow-listed per plugin.
var baseEnv = []string{"TMPDIR", "TZ", "SSL_CERT_FILE", "SSL_CERT_DIR"}

// Spec says which binary to run.
type Spec struct {
	// Name is the plugin's name as used in configuration.
	Name string
	// Path is the binary to execute.
	Path string
	// SHA256, when set, pins the binary: the host refuses to start a file
	// whose hash differs.
	SHA256 string
	// Env names host environment variables the plugin may see.
	Env []string
	// Dir is the plugin's working directory; "" means the host's.
	Dir string
	// Role says what the host uses this process for (e.g. `storage` or
	// `source "eodhd" "market"`), for logs and status.
	Role string
}

// Host owns every plugin process it started.
type Host struct {
	opts Options
	log  hclog.Logger

	mu      sync.Mutex
	plugins []*Plugin
	closed  bool
}

// New returns a Host.
func New(o Options) *Host {
	if o.Logger == nil {
		o.Logger = hclog.NewNullLogger()
	}
	if o.HealthInterval == 0 {
		o.HealthInterval = 5 * time.Second
	}
	if o.StartTimeout == 0 {
		o.StartTimeout = 10 * time.Second
	}
	if o.MaxBackoff == 0 {
		o.MaxBackoff = 30 * time.Second
	}
	return &Host{opts: o, log: o.Logger}
}

// ErrChecksumMismatch means a pinned plugin binary has changed.
var ErrChecksumMismatch = errors.New("plugin checksum mismatch")

// Start launches a plugin binary and reads its description. The plugin
// is supervised until Close.
func (h *Host) Start(ctx context.Context, spec Spec) (*Plugin, error) {
	if spec.SHA256 != "" {
		if _, err := hex.DecodeString(spec.SHA256); err != nil || len(spec.SHA256) != 64 {
			return nil, fmt.Errorf("plugin %s: sha256 pin must be 64 hex characters", spec.Name)
		}
		spec.SHA256 = strings.ToLower(spec.SHA256)
	}
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil, fmt.Errorf("plugin host is shut down")
	}
	h.mu.Unlock()

	p := &Plugin{
		host:    h,
		spec:    spec,
		log:     h.log.Named(spec.Name).With("role", spec.Role),
		configs: map[sdk.ComponentKind]sdk.ConfigValue{},
		stop:    make(chan struct{}),
	}
	inst, err := p.launch(ctx)
	if err != nil {
		return nil, err
	}
	p.inst = inst
	p.state = StateRunning

	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		inst.kill()
		return nil, fmt.Errorf("plugin host is shut down")
	}
	h.plugins = append(h.plugins, p)
	h.mu.Unlock()

	if h.opts.HealthInterval > 0 {
		go p.healthLoop(h.opts.HealthInterval)
	}
	return p, nil
}

// Plugins returns every plugin started so far.
func (h *Host) Plugins() []*Plugin {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]*Plugin(nil), h.plugins...)
}

// Close stops every plugin: each is asked to shut down and killed if it has
// not within two seconds. Plugins stop in parallel.
func (h *Host) Close() {
	h.mu.Lock()
	h.closed = true
	ps := h.plugins
	h.plugins = nil
	h.mu.Unlock()
	var wg sync.WaitGroup
	for _, p := range ps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.shutdown()
		}()
	}
	wg.Wait()
}

// instance is one running process of a plugin.
type instance struct {
	client  *plugin.Client
	rpc     plugin.ClientProtocol
	conn    *sdk.Conn
	desc    sdk.Description
	blob    sdk.BlobStore
	keys    sdk.KeyProvider
	market  sdk.MarketData
	folio   sdk.PortfolioSource
	release chan struct{}
	once    sync.Once
}

func (i *instance) exited() bool { return i.client.Exited() }

func (i *instance) kill() {
	i.once.Do(func() {
		i.client.Kill()
		close(i.release)
	})
}

func (p *Plugin) environment() []string {
	environ := p.host.opts.Environ
	if environ == nil {
		environ = os.Environ()
	}
	allowed := map[string]bool{}
	for _, n := range baseEnv {
		allowed[n] = true
	}
	for _, n := range p.spec.Env {
		allowed[n] = true
	}
	var env []string
	for _, kv := range environ {
		name, _, ok := strings.Cut(kv, "=")
		if ok && allowed[name] {
			env = append(env, kv)
		}
	}
	level := p.host.log.GetLevel()
	if level == hclog.NoLevel || level == hclog.Off {
		level = hclog.Info
	}
	return append(env, sdk.LogLevelEnv+"="+level.String())
}

// launch starts one process of the plugin. The process is started from a
// goroutine that keeps its OS thread locked for the process's whole life:
// Linux delivers the parent-death signal when the starting thread exits, so
// the thread must live exactly as long as the plugin.
func (p *Plugin) launch(ctx context.Context) (*instance, error) {
	if err := CheckBinary(p.spec.Path); err != nil {
		return nil, err
	}
	var secure *plugin.SecureConfig
	if p.spec.SHA256 != "" {
		got, err := FileSHA256(p.spec.Path)
		if err != nil {
			return nil, fmt.Errorf("plugin %s: %w", p.spec.Name, err)
		}
		if got != p.spec.SHA256 {
			return nil, fmt.Errorf("%w: refusing to start plugin %s: %s has sha256 %s but the configuration pins %s; if the binary was rebuilt on purpose, update the pin",
				ErrChecksumMismatch, p.spec.Name, p.spec.Path, got, p.spec.SHA256)
		}
		sum, _ := hex.DecodeString(p.spec.SHA256)
		secure = &plugin.SecureConfig{Checksum: sum, Hash: newSHA256()}
	}

	type result struct {
		inst *instance
		err  error
	}
	ch := make(chan result, 1)
	release := make(chan struct{})
	go func() {
		runtime.LockOSThread()
		// The goroutine ends with the thread still locked, so Go retires the
		// thread; by then the plugin has been killed.
		cmd := exec.Command(p.spec.Path)
		cmd.Env = p.environment()
		cmd.Dir = p.spec.Dir
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
		client := plugin.NewClient(&plugin.ClientConfig{
			HandshakeConfig:  sdk.HandshakeConfig(),
			VersionedPlugins: sdk.VersionedPlugins(nil),
			Cmd:              cmd,
			SecureConfig:     secure,
			AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
			AutoMTLS:         true,
			SkipHostEnv:      true,
			Managed:          true,
			StartTimeout:     p.host.opts.StartTimeout,
			Logger:           p.host.log,
			GRPCDialOptions: []grpc.DialOption{grpc.WithDefaultCallOptions(
				grpc.MaxCallRecvMsgSize(sdk.MaxMessageSize), grpc.MaxCallSendMsgSize(sdk.MaxMessageSize))},
		})
		rpc, err := client.Client()
		if err != nil {
			client.Kill()
			ch <- result{err: fmt.Errorf("%w: starting plugin %s (%s): %v", sdk.ErrUnavailable, p.spec.Name, p.spec.Path, err)}
			return
		}
		raw, err := rpc.Dispense(sdk.PluginName)
		if err != nil {
			client.Kill()
			ch <- result{err: fmt.Errorf("plugin %s: %w", p.spec.Name, err)}
			return
		}
		conn, ok := raw.(*sdk.Conn)
		if !ok {
			client.Kill()
			ch <- result{err: fmt.Errorf("plugin %s: unexpected client type %T", p.spec.Name, raw)}
			return
		}
		ch <- result{inst: &instance{client: client, rpc: rpc, conn: conn, release: release}}
		<-release
	}()
	r := <-ch
	if r.err != nil {
		return nil, r.err
	}
	inst := r.inst
	desc, err := inst.conn.Describe(ctx)
	if err != nil {
		inst.kill()
		return nil, fmt.Errorf("plugin %s: describe: %w", p.spec.Name, err)
	}
	if v := inst.client.NegotiatedVersion(); v != desc.ProtocolVersion {
		inst.kill()
		return nil, fmt.Errorf("plugin %s: negotiated protocol %d but it describes protocol %d", p.spec.Name, v, desc.ProtocolVersion)
	}
	inst.desc = desc
	if b, err := inst.conn.BlobStore(desc); err == nil {
		inst.blob = b
	}
	if k, err := inst.conn.KeyProvider(desc); err == nil {
		inst.keys = k
	}
	if m, err := inst.conn.MarketData(desc); err == nil {
		inst.market = m
	}
	if f, err := inst.conn.PortfolioSource(desc); err == nil {
		inst.folio = f
	}
	return inst, nil
}
