package mcp

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/gorilla/mux"
	"github.com/hashicorp/go-hclog"
	mcpsrv "github.com/mark3labs/mcp-go/server"

	"github.com/vire-dev/vire/host/api"
	"github.com/vire-dev/vire/host/documents"
	"github.com/vire-dev/vire/host/market"
	"github.com/vire-dev/vire/host/tenant"
	"github.com/vire-dev/vire/sdk"
)

// EndpointPath is where vire-server serves MCP.
const EndpointPath = "/mcp"

// SessionIdleTimeout is how long a 2025-11-25 session's state is kept
// after its last request when the client never ends it.
const SessionIdleTimeout = time.Hour

// Market is the market data the market tools serve; *market.Service is one.
type Market interface {
	Quotes(ctx context.Context, tickers []string) (map[string]market.QuoteResult, error)
	History(ctx context.Context, ticker string, q sdk.HistoryQuery) (market.HistoryResult, error)
	Fundamentals(ctx context.Context, ticker string) (market.FundamentalsResult, error)
	Dividends(ctx context.Context, ticker, from, to string) (market.DividendsResult, error)
	Search(ctx context.Context, query string, limit int) (market.SearchResults, error)
}

// Options configure a Server.
type Options struct {
	// Documents serves the strategy, plan and watchlist tools; required.
	Documents *documents.Service
	// Market, when set, adds the market data tools.
	Market Market
	Logger hclog.Logger
	// Version is the server version MCP clients are told.
	Version string
	// Personal: the server runs without authentication, on loopback only.
	// A request that reaches a loopback address with a Host header that
	// is not a loopback name is then refused (DNS-rebinding protection).
	// Behind a reverse proxy on the same host that keeps the public Host
	// header, that check would refuse every request, so hosted servers
	// rely on their API keys instead.
	Personal bool
	// AllowedOrigins lists the origins (scheme://host[:port]) that browser
	// clients may call /mcp from, besides the server's own origin. When
	// empty, only loopback origins (http://localhost:3000 and the like)
	// are allowed besides the server's own.
	AllowedOrigins []string
	// PublicURL is the server's external base URL, such as
	// https://vire.example.com, named by the protected-resource metadata;
	// empty derives it from each request's Host.
	PublicURL string
}

// Server is Vire's MCP server.
type Server struct {
	o    Options
	log  hclog.Logger
	mcp  *mcpsrv.MCPServer
	http *mcpsrv.StreamableHTTPServer
	// handler is http behind the session-ownership check.
	handler  http.Handler
	sessions *sessionBinder
	origins  map[string]bool
}

// New builds the MCP server: its tools, resources and prompt, and the
// Streamable HTTP handler that serves them.
func New(o Options) (*Server, error) {
	if o.Documents == nil {
		return nil, errors.New("mcp: Options.Documents is required")
	}
	if o.Logger == nil {
		o.Logger = hclog.NewNullLogger()
	}
	if o.Version == "" {
		o.Version = "dev"
	}
	s := &Server{o: o, log: o.Logger.Named("mcp")}
	var err error
	if s.origins, err = parseOrigins(o.AllowedOrigins); err != nil {
		return nil, err
	}
	s.mcp = mcpsrv.NewMCPServer("vire", o.Version,
		mcpsrv.WithTitle("Vire"),
		mcpsrv.WithInstructions(instructions),
		mcpsrv.WithToolCapabilities(false),
		mcpsrv.WithResourceCapabilities(false, false),
		mcpsrv.WithPromptCapabilities(false),
		mcpsrv.WithRecovery(),
	)
	if err := s.addDocumentTools(); err != nil {
		return nil, err
	}
	if o.Market != nil {
		if err := s.addMarketTools(); err != nil {
			return nil, err
		}
	}
	s.addResources()
	s.addPrompts()
	s.sessions = newSessionBinder()
	s.http = mcpsrv.NewStreamableHTTPServer(s.mcp,
		mcpsrv.WithEndpointPath(EndpointPath),
		mcpsrv.WithHTTPContextFunc(httpContext),
		mcpsrv.WithSessionIdManagerResolver(s.sessions),
		mcpsrv.WithDisableLocalhostProtection(!o.Personal),
		mcpsrv.WithSessionIdleTTL(SessionIdleTimeout),
		mcpsrv.WithStreamableHTTPLogger(NewSlogLogger(s.log)),
	)
	s.handler = s.sessions.guard(s.http)
	return s, nil
}

const instructions = `Vire keeps, for each of the user's portfolios, an investment strategy, a plan of intended actions and a watchlist, and serves market data.
Read a document (strategy_get, plan_get, watchlist_get) before changing it. Every change is kept as a version: the *_history tools list versions and show old content, and the *_restore tools bring an earlier version back, so any change can be reviewed and undone.
Tickers are CODE.EXCHANGE, for example BHP.AU (ASX) or AAPL.US; find them with market_search. Percentages are numbers from 0 to 100. Prices are in the security's trading currency.`

// Handler is the Streamable HTTP endpoint. Requests must reach it through
// api.Protect, which puts the authenticated principal in their context.
func (s *Server) Handler() http.Handler { return s.handler }

// Mount adds the endpoint to the REST router at EndpointPath, where the
// router's access layer authenticates, rate-limits and audits it like any
// route. The access layer must admit it with RouteScopes.
func (s *Server) Mount(r *mux.Router) {
	r.Handle(EndpointPath, s.handler)
}

// RouteScopes are the MCP route's entries for api.AccessOptions.Scopes:
// any authenticated key may speak MCP, and each tool, resource and prompt
// then checks the scope it needs.
func RouteScopes() map[string]tenant.Scope {
	return map[string]tenant.Scope{EndpointPath: api.AnyScope}
}

// Close ends open session streams and the idle-session sweeper; an
// http.Server drains faster when it runs at the start of Shutdown
// (RegisterOnShutdown).
func (s *Server) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.http.Shutdown(ctx); err != nil {
		s.log.Warn("closing MCP sessions", "error", err)
	}
}

type ctxKey int

const (
	ctxPrincipal ctxKey = iota
	ctxRequestID
)

// httpContext moves the principal that api.Protect authenticated, and the
// request id, into the context MCP handlers get.
func httpContext(ctx context.Context, r *http.Request) context.Context {
	if p, ok := api.PrincipalFrom(r.Context()); ok {
		ctx = context.WithValue(ctx, ctxPrincipal, p)
	}
	if id := api.RequestIDFrom(r.Context()); id != "" {
		ctx = context.WithValue(ctx, ctxRequestID, id)
	}
	return ctx
}

func principalFrom(ctx context.Context) (tenant.Principal, bool) {
	p, ok := ctx.Value(ctxPrincipal).(tenant.Principal)
	return p, ok
}

func requestIDFrom(ctx context.Context) string {
	id, _ := ctx.Value(ctxRequestID).(string)
	return id
}
