// Package mcptest holds the assertions that tests of Vire's MCP server and
// of the vire-mcp bridge make about tool calls, through a real MCP client.
package mcptest

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	mcpgo "github.com/mark3labs/mcp-go/mcp"
)

// Call calls a tool and returns its result, failing the test on a protocol
// error (a tool error is a result) or when no answer comes within a minute.
func Call(t testing.TB, c *client.Client, name string, args map[string]any) *mcpgo.CallToolResult {
	t.Helper()
	req := mcpgo.CallToolRequest{}
	req.Params.Name = name
	req.Params.Arguments = args
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := c.CallTool(ctx, req)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return res
}

// Text is the text content of a result, its parts joined by newlines.
func Text(r *mcpgo.CallToolResult) string {
	var parts []string
	for _, c := range r.Content {
		if tc, ok := mcpgo.AsTextContent(c); ok {
			parts = append(parts, tc.Text)
		}
	}
	return strings.Join(parts, "\n")
}

// OK asserts that a call succeeded and decodes its text as a JSON object.
func OK(t testing.TB, name string, r *mcpgo.CallToolResult) map[string]any {
	t.Helper()
	if r.IsError {
		t.Fatalf("%s failed: %s", name, Text(r))
	}
	var out map[string]any
	if err := json.Unmarshal([]byte(Text(r)), &out); err != nil {
		t.Fatalf("%s: text is not a JSON object: %v\n%s", name, err, Text(r))
	}
	return out
}

// Failed asserts that a call was a tool error whose text holds every part,
// and returns that text.
func Failed(t testing.TB, name string, r *mcpgo.CallToolResult, parts ...string) string {
	t.Helper()
	if !r.IsError {
		t.Fatalf("%s succeeded, want a tool error: %s", name, Text(r))
	}
	msg := Text(r)
	for _, p := range parts {
		if !strings.Contains(msg, p) {
			t.Fatalf("%s: error %q lacks %q", name, msg, p)
		}
	}
	return msg
}
