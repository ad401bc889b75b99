// Package mcp is Vire's Model Context Protocol layer: the tools, resources
// and prompt an AI client (Claude Desktop, Claude Code, any MCP client) uses
// to read and change a portfolio's strategy, plan and watchlist, to undo any
// of those changes from the documents' history, and to look up market data.
// It is built on mark3labs/mcp-go and served by vire-server over Streamable
// HTTP at /mcp, where the 2026-07-28 stateless protocol and the 2025-11-25
// session protocol share one endpoint.
//
// Like the REST layer it is thin: every tool calls host/documents or
// host/market directly and holds no business logic.
//
// # Access
//
// MCP requests pass the same access layer as REST requests (api.Protect):
// the same API keys, per-key rate limits and audit records. The route
// itself admits any authenticated key (RouteScopes); each tool then checks
// the scope it needs, read for reading and write for changing, and says
// what is missing when the key lacks it. The tenant of every call is the
// authenticated principal's, moved into the tool's context by an
// HTTPContextFunc: no argument names a tenant.
//
// Front, the handler in front of the access layer, adds what MCP clients
// expect of an OAuth 2.1 resource server: the RFC 9728 protected-resource
// metadata at /.well-known/oauth-protected-resource, a resource_metadata
// parameter on every 401 challenge from /mcp, and a 403 for a request whose
// Origin header names an origin that is not allowed (DNS-rebinding and
// cross-site protection).
//
// A 2025-11-25 session id is bound to the API key that opened the session:
// the same id presented with any other key is refused (404, as for an
// unknown session), so a session never authenticates anything. The binding
// is a digest of the key in the id itself, so any instance of a hosted
// deployment can check it.
//
// # Failures
//
// A tool that cannot do what it was asked returns a tool error (isError)
// whose text says what to fix: the invalid fields, the tool that creates a
// missing document, or that the document changed since it was read.
package mcp
