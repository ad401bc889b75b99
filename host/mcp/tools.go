package mcp

import (
	"context"
	"encoding/json"
	"fmt"

	mcpgo "github.com/mark3labs/mcp-go/mcp"

	"github.com/vire-dev/vire/host/documents"
	"github.com/vire-dev/vire/host/tenant"
)

// effect is what a tool does to the tenant's data; it sets the scope the
// tool needs and the hints a client shows its user.
type effect int

const (
	reads   effect = iota // needs read; changes nothing
	changes               // needs write; keeps what it replaces in the history
	deletes               // needs write; removes something (undoable from the history)
)

func (e effect) scope() tenant.Scope {
	if e == reads {
		return tenant.ScopeRead
	}
	return tenant.ScopeWrite
}

// tool describes one MCP tool whose arguments decode into A.
type tool[A any] struct {
	name, title, desc string
	effect            effect
	// idempotent: repeating the call with the same arguments changes
	// nothing more.
	idempotent bool
	// external: the tool asks a system outside Vire (the market data
	// source).
	external bool
	props    map[string]prop
	required []string
	run      func(ctx context.Context, c documents.Caller, args A) (any, error)
	// fail explains an error of run; nil uses the generic explanations.
	fail func(ctx context.Context, c documents.Caller, args A, err error) string
}

// addTool registers t. Its input schema comes from A with t.props applied;
// every call is checked against it (unknown arguments refused) before the
// tool runs.
func addTool[A any](s *Server, t tool[A]) error {
	schema, err := inputSchema[A](t.props, t.required...)
	if err != nil {
		return fmt.Errorf("mcp: tool %s: %w", t.name, err)
	}
	check, err := compileArgs(t.name, schema)
	if err != nil {
		return fmt.Errorf("mcp: tool %s: compiling its input schema: %w", t.name, err)
	}
	ro, destructive, open := t.effect == reads, t.effect == deletes, t.external
	idem := t.idempotent || t.effect == reads
	def := mcpgo.Tool{
		Name: t.name, Title: t.title, Description: t.desc, RawInputSchema: schema,
		Annotations: mcpgo.ToolAnnotation{
			Title: t.title, ReadOnlyHint: &ro, DestructiveHint: &destructive, IdempotentHint: &idem, OpenWorldHint: &open,
		},
	}
	s.mcp.AddTool(def, func(ctx context.Context, req mcpgo.CallToolRequest) (*mcpgo.CallToolResult, error) {
		c, refusal := s.caller(ctx, t.effect.scope(), "the "+t.name+" tool")
		if refusal != "" {
			return mcpgo.NewToolResultError(refusal), nil
		}
		if msg := check.check(req.GetRawArguments()); msg != "" {
			return mcpgo.NewToolResultError(msg), nil
		}
		var args A
		if err := req.BindArguments(&args); err != nil {
			return mcpgo.NewToolResultError(fmt.Sprintf("the arguments of %s do not fit its input schema: %v", t.name, err)), nil
		}
		out, err := t.run(ctx, c, args)
		if err != nil {
			msg := ""
			if t.fail != nil {
				msg = t.fail(ctx, c, args, err)
			}
			if msg == "" {
				msg = s.explain(ctx, t.name, err)
			}
			return mcpgo.NewToolResultError(msg), nil
		}
		return jsonResult(out)
	})
	return nil
}

// caller returns who the request acts for, or why it may not act: no
// authenticated principal, or a key without the scope needed.
func (s *Server) caller(ctx context.Context, need tenant.Scope, what string) (documents.Caller, string) {
	p, ok := principalFrom(ctx)
	if !ok || p.TenantID == "" {
		return documents.Caller{}, "not authenticated: connect to Vire with an API key (Authorization: Bearer <key>)"
	}
	if !p.Has(need) {
		return documents.Caller{}, fmt.Sprintf("this API key lacks the %q scope that %s needs (its scopes: %v); "+
			"ask the operator for a key with the %q scope", need, what, p.Scopes, need)
	}
	return documents.Caller{Tenant: p.TenantID, KeyID: p.KeyID}, ""
}

// jsonResult returns v as structured content and as its compact JSON text
// for clients that read only text.
func jsonResult(v any) (*mcpgo.CallToolResult, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encoding the result: %w", err)
	}
	return mcpgo.NewToolResultStructured(json.RawMessage(b), string(b)), nil
}
