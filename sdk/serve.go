package sdk

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	pb "github.com/vire-dev/vire/sdk/proto/pluginv1"
)

// Handshake names the magic cookie the host sets when it starts a plugin. It
// is not a secret: it only stops a plugin binary from being run by mistake.
const (
	MagicCookieKey   = "VIRE_PLUGIN_MAGIC_COOKIE"
	MagicCookieValue = "b7c1e1d2a63f4c0e9f3c2a5d8e6b4f10-vire-plugin"
	// PluginName is the single go-plugin plugin a Vire binary serves; its
	// gRPC services cover every component kind.
	PluginName = "vire"
	// MaxMessageSize bounds a single gRPC message in either direction.
	// Blobs larger than this travel through the streaming calls.
	MaxMessageSize = 256 << 20
	// LogLevelEnv is the variable through which the host tells a plugin its
	// log level.
	LogLevelEnv = "VIRE_PLUGIN_LOG_LEVEL"
)

// HandshakeConfig returns the go-plugin handshake shared by host and plugins.
func HandshakeConfig() plugin.HandshakeConfig {
	return plugin.HandshakeConfig{
		ProtocolVersion:  ProtocolVersion,
		MagicCookieKey:   MagicCookieKey,
		MagicCookieValue: MagicCookieValue,
	}
}

// GRPCPlugin is the go-plugin adapter for a Vire plugin binary. The host side
// uses it with nil Server to obtain a *Conn.
type GRPCPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	Served *ServeConfig
}

// GRPCServer registers the services of every component the binary serves.
func (p *GRPCPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	cfg := p.Served
	if cfg == nil {
		return fmt.Errorf("no components to serve")
	}
	desc, comps, err := cfg.describe()
	if err != nil {
		return err
	}
	pb.RegisterPluginServer(s, &pluginServer{desc: desc, comps: comps})
	if cfg.Storage != nil {
		pb.RegisterBlobStoreServer(s, &blobServer{b: cfg.Storage})
	}
	if cfg.Keys != nil {
		pb.RegisterKeyProviderServer(s, &keyServer{k: cfg.Keys})
	}
	if m, ok := cfg.Source.(MarketData); ok {
		pb.RegisterMarketDataServer(s, &marketServer{m: m})
	}
	if p, ok := cfg.Source.(PortfolioSource); ok {
		pb.RegisterPortfolioSourceServer(s, &portfolioServer{p: p})
	}
	return nil
}

// GRPCClient returns a *Conn for the host.
func (p *GRPCPlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, cc *grpc.ClientConn) (any, error) {
	return NewConn(cc), nil
}

// VersionedPlugins is the plugin set for every protocol version this SDK
// speaks. server is nil on the host side.
func VersionedPlugins(server *ServeConfig) map[int]plugin.PluginSet {
	return map[int]plugin.PluginSet{
		ProtocolVersion: {PluginName: &GRPCPlugin{Served: server}},
	}
}

// ServeConfig names a plugin binary and the components it serves. Set at
// least one component.
type ServeConfig struct {
	// Name is the plugin's name as used in configuration (`storage "file"`).
	Name string
	// Version is the plugin's own version.
	Version string
	// Logger receives the plugin's logs; NewLogger(Name) when nil.
	Logger hclog.Logger

	Storage BlobStore
	Keys    KeyProvider
	// Source implements MarketData, PortfolioSource, or both.
	Source Plugin
}

func (c *ServeConfig) describe() (Description, map[ComponentKind]Plugin, error) {
	d := Description{Name: c.Name, Version: c.Version, ProtocolVersion: ProtocolVersion}
	comps := map[ComponentKind]Plugin{}
	add := func(kind ComponentKind, p Plugin, ifaces []string) error {
		if err := p.Schema().Validate(); err != nil {
			return fmt.Errorf("%s component: %w", kind, err)
		}
		ci := ComponentInfo{Kind: kind, Interfaces: ifaces, Schema: p.Schema()}
		if b, ok := p.(BlobStore); ok && kind == KindStorage {
			caps := b.Capabilities()
			ci.Capabilities = &caps
		}
		d.Components = append(d.Components, ci)
		comps[kind] = p
		return nil
	}
	if c.Storage != nil {
		if err := add(KindStorage, c.Storage, []string{"BlobStore"}); err != nil {
			return d, nil, err
		}
	}
	if c.Keys != nil {
		if err := add(KindKeys, c.Keys, []string{"KeyProvider"}); err != nil {
			return d, nil, err
		}
	}
	if c.Source != nil {
		var ifaces []string
		if _, ok := c.Source.(MarketData); ok {
			ifaces = append(ifaces, "MarketData")
		}
		if _, ok := c.Source.(PortfolioSource); ok {
			ifaces = append(ifaces, "PortfolioSource")
		}
		if len(ifaces) == 0 {
			return d, nil, fmt.Errorf("source component implements neither MarketData nor PortfolioSource")
		}
		if err := add(KindSource, c.Source, ifaces); err != nil {
			return d, nil, err
		}
	}
	if len(comps) == 0 {
		return d, nil, fmt.Errorf("plugin %q serves no component", c.Name)
	}
	return d, comps, nil
}

// NewLogger returns the logger a plugin should use: JSON lines on stderr,
// which the host re-emits in its own log under the plugin's name. The level
// comes from the host (VIRE_PLUGIN_LOG_LEVEL), default info.
func NewLogger(name string) hclog.Logger {
	level := hclog.LevelFromString(os.Getenv(LogLevelEnv))
	if level == hclog.NoLevel {
		level = hclog.Info
	}
	return hclog.New(&hclog.LoggerOptions{
		Name:       name,
		Output:     os.Stderr,
		JSONFormat: true,
		Level:      level,
	})
}

// Serve runs a plugin binary's main: `describe` prints the plugin's
// Description as JSON; otherwise it serves the components to the host that
// started it. It never returns.
func Serve(cfg ServeConfig) {
	os.Exit(serve(&cfg, os.Args[1:], os.Stdout, os.Stderr))
}

func serve(cfg *ServeConfig, args []string, stdout, stderr io.Writer) int {
	prog := filepath.Base(os.Args[0])
	desc, _, err := cfg.describe()
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", prog, err)
		return 1
	}
	if len(args) > 0 {
		switch args[0] {
		case "describe":
			enc := json.NewEncoder(stdout)
			enc.SetIndent("", "  ")
			if err := enc.Encode(desc); err != nil {
				fmt.Fprintf(stderr, "%s: %v\n", prog, err)
				return 1
			}
			return 0
		case "version":
			fmt.Fprintf(stdout, "%s %s (protocol %d)\n", desc.Name, desc.Version, ProtocolVersion)
			return 0
		default:
			fmt.Fprintf(stderr, "%s: unknown command %q; the only commands are describe and version\n", prog, args[0])
			return 2
		}
	}
	if os.Getenv(MagicCookieKey) != MagicCookieValue {
		fmt.Fprintf(stderr, "%s: this is a Vire plugin, started by vire-server; run `%s describe` to see what it serves\n", prog, prog)
		return 1
	}
	if cfg.Logger == nil {
		cfg.Logger = NewLogger(cfg.Name)
	}
	go watchParent(os.Getppid(), cfg.Logger)
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig:  HandshakeConfig(),
		VersionedPlugins: VersionedPlugins(cfg),
		GRPCServer: func(opts []grpc.ServerOption) *grpc.Server {
			opts = append(opts, grpc.MaxRecvMsgSize(MaxMessageSize), grpc.MaxSendMsgSize(MaxMessageSize))
			return grpc.NewServer(opts...)
		},
		Logger: cfg.Logger,
	})
	cfg.close()
	return 0
}

// close releases every component that holds resources (connections, key
// material) once the host has asked the plugin to stop.
func (c *ServeConfig) close() {
	for _, comp := range []any{c.Storage, c.Keys, c.Source} {
		if cl, ok := comp.(io.Closer); ok && comp != nil {
			if err := cl.Close(); err != nil {
				c.Logger.Warn("closing component", "error", err)
			}
		}
	}
}

// watchParent exits the plugin when the host that started it is gone, so a
// killed host never leaves plugins behind, even where the parent-death signal
// is unavailable.
func watchParent(ppid int, log hclog.Logger) {
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	for range t.C {
		if os.Getppid() != ppid {
			log.Warn("host process is gone; exiting", "host_pid", ppid)
			os.Exit(3)
		}
	}
}
