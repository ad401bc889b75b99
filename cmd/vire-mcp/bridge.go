package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	mcpgo "github.com/mark3labs/mcp-go/mcp"
	mcpsrv "github.com/mark3labs/mcp-go/server"

	vmcp "github.com/vire-dev/vire/host/mcp"
)

const (
	// DefaultURL is where a personal vire-server listens.
	DefaultURL = "http://127.0.0.1:8080"
	// connectTimeout bounds connecting and listing what the server offers.
	connectTimeout = 15 * time.Second
	// callTimeout bounds one forwarded call; market data may wait on an
	// upstream for up to a minute.
	callTimeout = 2 * time.Minute
	// statusTool is offered while the server's tools are not.
	statusTool = "vire_status"
)

// bridge offers the tools, resources and prompts of a Vire server's MCP
// endpoint on stdio.
type bridge struct {
	endpoint string // the server's MCP endpoint
	shown    string // endpoint without any user:password, for messages and logs
	key      string // the API key: sent to the server, never logged or shown
	log      hclog.Logger
	http     *http.Client
	server   *mcpsrv.MCPServer

	mu        sync.Mutex
	remote    *client.Client
	connected bool
}

func newBridge(rawURL, key string, log hclog.Logger) (*bridge, error) {
	if rawURL == "" {
		rawURL = DefaultURL
	}
	u, err := url.Parse(strings.TrimSpace(rawURL))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("VIRE_URL %q is not an http(s) URL such as %s", clipURL(rawURL), DefaultURL)
	}
	if !strings.HasSuffix(u.Path, vmcp.EndpointPath) {
		u.Path = strings.TrimRight(u.Path, "/") + vmcp.EndpointPath
	}
	return &bridge{
		endpoint: u.String(), shown: u.Redacted(), key: strings.TrimSpace(key), log: log,
		http: &http.Client{Transport: &refusals{next: http.DefaultTransport}},
	}, nil
}

func clipURL(s string) string {
	if u, err := url.Parse(s); err == nil {
		s = u.Redacted()
	}
	if len(s) > 80 {
		s = s[:80] + "…"
	}
	return s
}

// start connects to the server and builds the stdio server: the server's
// tools, resources and prompts when it answers, vire_status otherwise.
func (b *bridge) start(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, connectTimeout)
	defer cancel()
	remote, init, err := b.dial(ctx)
	instructions := ""
	if err == nil {
		instructions = init.Instructions
	} else {
		instructions = "Vire is not connected yet: call " + statusTool + " to see why and to connect again."
	}
	b.server = mcpsrv.NewMCPServer("vire", version,
		mcpsrv.WithTitle("Vire"),
		mcpsrv.WithInstructions(instructions),
		mcpsrv.WithToolCapabilities(true),
		mcpsrv.WithResourceCapabilities(false, true),
		mcpsrv.WithPromptCapabilities(true),
		mcpsrv.WithRecovery(),
	)
	if err == nil {
		err = b.offer(ctx, remote)
	}
	if err != nil {
		b.log.Warn("not connected to Vire; offering "+statusTool+" until it connects", "url", b.shown, "error", err)
		b.server.AddTool(mcpgo.Tool{
			Name:  statusTool,
			Title: "Connect to Vire",
			Description: "Vire's tools (portfolio strategy, plan, watchlist and market data) are not available because " +
				"vire-mcp could not connect to the Vire server. Call this to see why and what to do; it also " +
				"tries to connect again and, when that works, makes Vire's tools available.",
			InputSchema: mcpgo.ToolInputSchema{Type: "object", Properties: map[string]any{}, AdditionalProperties: false},
		}, b.status)
	}
}

// dial connects to the server's MCP endpoint.
func (b *bridge) dial(ctx context.Context) (*client.Client, *mcpgo.InitializeResult, error) {
	opts := []transport.StreamableHTTPCOption{
		transport.WithHTTPBasicClient(b.http),
		transport.WithHTTPLogger(vmcp.NewSlogLogger(b.log.Named("http"))),
	}
	if b.key != "" {
		opts = append(opts, transport.WithHTTPHeaders(map[string]string{"Authorization": "Bearer " + b.key}))
	}
	tr, err := transport.NewStreamableHTTP(b.endpoint, opts...)
	if err != nil {
		return nil, nil, err
	}
	c := client.NewClient(tr)
	if err := c.Start(ctx); err != nil {
		return nil, nil, err
	}
	req := mcpgo.InitializeRequest{}
	req.Params.ClientInfo = mcpgo.Implementation{Name: "vire-mcp", Version: version}
	init, err := c.Initialize(ctx, req)
	if err != nil {
		c.Close()
		return nil, nil, err
	}
	return c, init, nil
}

// offer lists what the server offers and offers it on stdio, replacing
// whatever was offered before.
func (b *bridge) offer(ctx context.Context, remote *client.Client) error {
	tools, err := remote.ListTools(ctx, mcpgo.ListToolsRequest{})
	if err != nil {
		remote.Close()
		return err
	}
	templates, err := remote.ListResourceTemplates(ctx, mcpgo.ListResourceTemplatesRequest{})
	if err != nil {
		remote.Close()
		return err
	}
	prompts, err := remote.ListPrompts(ctx, mcpgo.ListPromptsRequest{})
	if err != nil {
		remote.Close()
		return err
	}
	b.mu.Lock()
	old := b.remote
	b.remote, b.connected = remote, true
	b.mu.Unlock()
	if old != nil {
		old.Close()
	}

	st := make([]mcpsrv.ServerTool, 0, len(tools.Tools))
	for _, t := range tools.Tools {
		st = append(st, mcpsrv.ServerTool{Tool: t, Handler: b.callTool})
	}
	b.server.SetTools(st...)
	rt := make([]mcpsrv.ServerResourceTemplate, 0, len(templates.ResourceTemplates))
	for _, t := range templates.ResourceTemplates {
		rt = append(rt, mcpsrv.ServerResourceTemplate{Template: t, Handler: b.readResource})
	}
	b.server.SetResourceTemplates(rt...)
	sp := make([]mcpsrv.ServerPrompt, 0, len(prompts.Prompts))
	for _, p := range prompts.Prompts {
		sp = append(sp, mcpsrv.ServerPrompt{Prompt: p, Handler: b.getPrompt})
	}
	b.server.SetPrompts(sp...)
	b.log.Info("connected to Vire", "url", b.shown, "tools", len(st), "resource_templates", len(rt), "prompts", len(sp))
	return nil
}

func (b *bridge) client() *client.Client {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.remote
}

// status answers vire_status: it connects again and says how that went.
func (b *bridge) status(ctx context.Context, _ mcpgo.CallToolRequest) (*mcpgo.CallToolResult, error) {
	ctx, cancel := context.WithTimeout(ctx, connectTimeout)
	defer cancel()
	remote, _, err := b.dial(ctx)
	if err == nil {
		err = b.offer(ctx, remote)
	}
	if err != nil {
		b.log.Warn("still not connected to Vire", "url", b.shown, "error", err)
		return mcpgo.NewToolResultError(b.explain(err)), nil
	}
	return mcpgo.NewToolResultText("Connected to Vire at " + b.shown + ". Its tools are available now; list the tools again to see them."), nil
}

func (b *bridge) callTool(ctx context.Context, req mcpgo.CallToolRequest) (*mcpgo.CallToolResult, error) {
	c := b.client()
	if c == nil {
		return mcpgo.NewToolResultError("not connected to Vire; call " + statusTool), nil
	}
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	out := mcpgo.CallToolRequest{}
	out.Params.Name = req.Params.Name
	out.Params.Arguments = req.Params.Arguments
	res, err := c.CallTool(ctx, out)
	if err != nil {
		b.log.Warn("tool call failed", "tool", req.Params.Name, "error", err)
		return mcpgo.NewToolResultError(b.explain(err)), nil
	}
	return res, nil
}

func (b *bridge) readResource(ctx context.Context, req mcpgo.ReadResourceRequest) ([]mcpgo.ResourceContents, error) {
	c := b.client()
	if c == nil {
		return nil, errors.New("not connected to Vire; call " + statusTool)
	}
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	out := mcpgo.ReadResourceRequest{}
	out.Params.URI = req.Params.URI
	res, err := c.ReadResource(ctx, out)
	if err != nil {
		return nil, errors.New(b.explain(err))
	}
	return res.Contents, nil
}

func (b *bridge) getPrompt(ctx context.Context, req mcpgo.GetPromptRequest) (*mcpgo.GetPromptResult, error) {
	c := b.client()
	if c == nil {
		return nil, errors.New("not connected to Vire; call " + statusTool)
	}
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	out := mcpgo.GetPromptRequest{}
	out.Params.Name, out.Params.Arguments = req.Params.Name, req.Params.Arguments
	res, err := c.GetPrompt(ctx, out)
	if err != nil {
		return nil, errors.New(b.explain(err))
	}
	return res, nil
}

func (b *bridge) close() {
	if c := b.client(); c != nil {
		c.Close()
	}
}
