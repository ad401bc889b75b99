package mcp

import (
	"context"
	"io"
	"net/http"
	"testing"

	mcpgo "github.com/mark3labs/mcp-go/mcp"

	"github.com/vire-dev/vire/internal/mcptest"
)

// BenchmarkToolCall measures one tool call over HTTP through the whole
// stack (access layer with API-key check and audit, schema check, the
// document service, the encrypted file store), per protocol revision.
func BenchmarkToolCall(b *testing.B) {
	e := newEnv(b, envConfig{noMarket: true})
	for _, version := range protocols {
		b.Run(version, func(b *testing.B) {
			c := e.connect(b, "alice", version)
			mcptest.OK(b, "strategy_update", mcptest.Call(b, c, "strategy_update", map[string]any{"portfolio": "Bench", "notes": "n"}))
			req := mcpgo.CallToolRequest{}
			req.Params.Name = "strategy_get"
			req.Params.Arguments = map[string]any{"portfolio": "Bench"}
			b.ResetTimer()
			for b.Loop() {
				r, err := c.CallTool(context.Background(), req)
				if err != nil || r.IsError {
					b.Fatal(err, r)
				}
			}
		})
	}
}

// BenchmarkRESTGet is the same read through the REST API, for comparison.
func BenchmarkRESTGet(b *testing.B) {
	e := newEnv(b, envConfig{noMarket: true})
	c := e.connect(b, "alice", "")
	mcptest.OK(b, "strategy_update", mcptest.Call(b, c, "strategy_update", map[string]any{"portfolio": "Bench", "notes": "n"}))
	req, _ := http.NewRequest(http.MethodGet, e.url+"/api/portfolios/Bench/strategy", nil)
	req.Header.Set("Authorization", "Bearer "+e.keys["alice"])
	b.ResetTimer()
	for b.Loop() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatal(resp.Status)
		}
	}
}
