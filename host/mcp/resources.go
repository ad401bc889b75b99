package mcp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"

	mcpgo "github.com/mark3labs/mcp-go/mcp"

	"github.com/vire-dev/vire/host/documents"
	"github.com/vire-dev/vire/host/tenant"
)

// ResourceURI is the URI of a portfolio document resource; kind is
// "strategy", "plan" or "watchlist".
func ResourceURI(portfolio, kind string) string {
	return "vire://portfolios/" + url.PathEscape(portfolio) + "/" + kind
}

// docReader reads one kind of document as JSON.
type docReader struct {
	kind  *docKind
	title string
	desc  string
	get   func(ctx context.Context, c documents.Caller, portfolio string) (any, error)
}

func (s *Server) readers() []docReader {
	d := s.o.Documents
	return []docReader{
		{s.strategyKind(), "Investment strategy", "A portfolio's investment strategy: universe, sector rules, limits and " +
			"target allocation in percent, risk appetite and notes.",
			func(ctx context.Context, c documents.Caller, p string) (any, error) {
				return d.Strategies.Get(ctx, c, p)
			}},
		{s.planKind(), "Plan", "A portfolio's plan: the actions the user intends to take, with targets, triggers and status.",
			func(ctx context.Context, c documents.Caller, p string) (any, error) { return d.Plans.Get(ctx, c, p) }},
		{s.watchlistKind(), "Watchlist", "A portfolio's watchlist: followed tickers with notes, prices of interest and verdicts.",
			func(ctx context.Context, c documents.Caller, p string) (any, error) {
				return d.Watchlists.Get(ctx, c, p)
			}},
	}
}

// addResources registers vire://portfolios/{portfolio}/<kind> for each
// document as a resource template.
func (s *Server) addResources() {
	for _, r := range s.readers() {
		tmpl := mcpgo.NewResourceTemplate("vire://portfolios/{portfolio}/"+r.kind.kind, r.title,
			mcpgo.WithTemplateDescription(r.desc+" Replace {portfolio} with the portfolio's name."),
			mcpgo.WithTemplateMIMEType("application/json"),
		)
		s.mcp.AddResourceTemplate(tmpl, func(ctx context.Context, req mcpgo.ReadResourceRequest) ([]mcpgo.ResourceContents, error) {
			c, refusal := s.caller(ctx, tenant.ScopeRead, "reading a resource")
			if refusal != "" {
				return nil, errors.New(refusal)
			}
			p, err := templateVar(req.Params.Arguments, "portfolio")
			if err != nil {
				return nil, err
			}
			text, err := s.readDoc(ctx, c, r, p)
			if err != nil {
				return nil, err
			}
			return []mcpgo.ResourceContents{mcpgo.TextResourceContents{URI: req.Params.URI, MIMEType: "application/json", Text: text}}, nil
		})
	}
}

// readDoc returns a document as JSON, or an error that says what to do.
func (s *Server) readDoc(ctx context.Context, c documents.Caller, r docReader, portfolio string) (string, error) {
	v, err := r.get(ctx, c, portfolio)
	if err != nil {
		msg := r.kind.explain(ctx, c, portfolio, err)
		if msg == "" {
			msg = s.explain(ctx, "resources/read", err)
		}
		return "", errors.New(msg)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("encoding the %s: %w", r.kind.kind, err)
	}
	return string(b), nil
}

// templateVar returns a URI template variable, percent-decoded.
func templateVar(args map[string]any, name string) (string, error) {
	var v string
	switch x := args[name].(type) {
	case string:
		v = x
	case []string:
		v = strings.Join(x, ",")
	}
	if v == "" {
		return "", fmt.Errorf("the resource URI names no %s", name)
	}
	if d, err := url.PathUnescape(v); err == nil {
		v = d
	}
	return v, nil
}

// ReviewPrompt is the name of the prompt that reviews a plan against the
// strategy.
const ReviewPrompt = "review_plan"

func (s *Server) addPrompts() {
	p := mcpgo.NewPrompt(ReviewPrompt,
		mcpgo.WithPromptDescription("Review my plan against my strategy: check every planned action against the portfolio's "+
			"strategy and suggest changes."),
		mcpgo.WithArgument("portfolio", mcpgo.RequiredArgument(), mcpgo.ArgumentDescription(descPortfolio)),
	)
	s.mcp.AddPrompt(p, func(ctx context.Context, req mcpgo.GetPromptRequest) (*mcpgo.GetPromptResult, error) {
		c, refusal := s.caller(ctx, tenant.ScopeRead, "this prompt")
		if refusal != "" {
			return nil, errors.New(refusal)
		}
		portfolio := strings.TrimSpace(req.Params.Arguments["portfolio"])
		if portfolio == "" {
			return nil, errors.New("the portfolio argument is required: the name of the portfolio to review")
		}
		msgs := []mcpgo.PromptMessage{mcpgo.NewPromptMessage(mcpgo.RoleUser, mcpgo.NewTextContent(reviewText(portfolio)))}
		for _, r := range s.readers()[:2] { // the strategy and the plan
			text, err := s.readDoc(ctx, c, r, portfolio)
			if err != nil {
				msgs = append(msgs, mcpgo.NewPromptMessage(mcpgo.RoleUser,
					mcpgo.NewTextContent(fmt.Sprintf("(No %s to include: %v.)", r.kind.kind, err))))
				continue
			}
			msgs = append(msgs, mcpgo.NewPromptMessage(mcpgo.RoleUser, mcpgo.NewEmbeddedResource(mcpgo.TextResourceContents{
				URI: ResourceURI(portfolio, r.kind.kind), MIMEType: "application/json", Text: text,
			})))
		}
		return mcpgo.NewGetPromptResult("Review the plan of portfolio "+portfolio+" against its strategy", msgs), nil
	})
}

func reviewText(portfolio string) string {
	return fmt.Sprintf(`Review the plan of my portfolio %q against its strategy; both are attached.

For each plan item, say whether it fits the strategy: the exchanges in its universe, the allowed and excluded sectors (use market_fundamentals for a ticker's sector), the position and sector limits and the target allocation (all in percent), and the risk appetite. Point out items that conflict with the strategy, items whose target date has passed or that look stale, duplicates, and anything the strategy calls for that the plan lacks. Use market_quote to compare target prices with current prices.

Then suggest concrete changes. Do not change anything until I agree; when I do, use plan_update_item, plan_add_item or plan_remove_item. Every change can be undone with plan_restore.`, portfolio)
}
