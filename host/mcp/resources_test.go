package mcp

import (
	"context"
	"encoding/json"
	"sort"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/client"
	mcpgo "github.com/mark3labs/mcp-go/mcp"

	"github.com/vire-dev/vire/internal/mcptest"
)

func readResource(c *client.Client, uri string) (string, error) {
	req := mcpgo.ReadResourceRequest{}
	req.Params.URI = uri
	res, err := c.ReadResource(context.Background(), req)
	if err != nil {
		return "", err
	}
	var parts []string
	for _, rc := range res.Contents {
		if tc, ok := mcpgo.AsTextResourceContents(rc); ok {
			parts = append(parts, tc.Text)
		}
	}
	return strings.Join(parts, "\n"), nil
}

func getPrompt(c *client.Client, portfolio string) (*mcpgo.GetPromptResult, error) {
	req := mcpgo.GetPromptRequest{}
	req.Params.Name = ReviewPrompt
	req.Params.Arguments = map[string]string{"portfolio": portfolio}
	return c.GetPrompt(context.Background(), req)
}

func TestResources(t *testing.T) {
	e := newEnv(t, envConfig{})
	for _, version := range protocols {
		t.Run(version, func(t *testing.T) {
			c := e.connect(t, "alice", version)
			res, err := c.ListResourceTemplates(context.Background(), mcpgo.ListResourceTemplatesRequest{})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, rt := range res.ResourceTemplates {
				got = append(got, rt.URITemplate.Raw())
				if rt.MIMEType != "application/json" || rt.Description == "" {
					t.Errorf("template %s: %+v", rt.URITemplate.Raw(), rt)
				}
			}
			sort.Strings(got)
			wantT := []string{"vire://portfolios/{portfolio}/plan", "vire://portfolios/{portfolio}/strategy", "vire://portfolios/{portfolio}/watchlist"}
			if strings.Join(got, " ") != strings.Join(wantT, " ") {
				t.Fatalf("templates %v, want %v", got, wantT)
			}

			p := "My SMSF " + version // a name that needs escaping in a URI
			mcptest.OK(t, "strategy_update", mcptest.Call(t, c, "strategy_update", map[string]any{"portfolio": p, "excluded_sectors": []string{"Tobacco"}}))
			mcptest.OK(t, "plan_add_item", mcptest.Call(t, c, "plan_add_item", map[string]any{"portfolio": p, "action": "review", "ticker": "CSL.AU", "target_date": "2031-06-30"}))
			text, err := readResource(c, ResourceURI(p, "strategy"))
			if err != nil {
				t.Fatal(err)
			}
			var doc map[string]any
			if err := json.Unmarshal([]byte(text), &doc); err != nil {
				t.Fatalf("strategy resource is not JSON: %v\n%s", err, text)
			}
			want(t, doc, p, "portfolio")
			want(t, doc, "[Tobacco]", "strategy", "excluded_sectors")
			text, err = readResource(c, ResourceURI(p, "plan"))
			if err != nil || !strings.Contains(text, "CSL.AU") {
				t.Fatalf("plan resource: %v %s", err, text)
			}
			if _, err := readResource(c, ResourceURI(p, "watchlist")); err == nil || !strings.Contains(err.Error(), "add its first ticker with watchlist_upsert") {
				t.Fatalf("missing watchlist: %v", err)
			}

			pr, err := getPrompt(c, p)
			if err != nil {
				t.Fatal(err)
			}
			var embedded []string
			for i, m := range pr.Messages {
				if m.Role != mcpgo.RoleUser {
					t.Errorf("message %d has role %s", i, m.Role)
				}
				if er, ok := m.Content.(mcpgo.EmbeddedResource); ok {
					if tc, ok := er.Resource.(mcpgo.TextResourceContents); ok {
						embedded = append(embedded, tc.URI)
						continue
					}
				}
				if tc, ok := m.Content.(mcpgo.TextContent); ok && i == 0 && !strings.Contains(tc.Text, "against its strategy") {
					t.Errorf("first message: %s", tc.Text)
				}
			}
			if len(embedded) != 2 || embedded[0] != ResourceURI(p, "strategy") || embedded[1] != ResourceURI(p, "plan") {
				t.Fatalf("prompt embeds %v, want the strategy and the plan", embedded)
			}

			// Without a plan the prompt still works and says so.
			pr, err = getPrompt(c, "Planless "+version)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := json.Marshal(pr)
			if !strings.Contains(string(b), "No plan to include") || !strings.Contains(string(b), "No strategy to include") {
				t.Fatalf("prompt for an empty portfolio: %s", b)
			}
		})
	}
}
