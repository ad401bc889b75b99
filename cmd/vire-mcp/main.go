// Command vire-mcp connects an MCP client that speaks stdio (Claude Desktop,
// Claude Code) to a Vire server. The client starts it as a subprocess; it
// reads JSON-RPC on stdin, writes only JSON-RPC on stdout, and logs to
// stderr.
//
//	VIRE_URL        the server, default http://127.0.0.1:8080
//	VIRE_API_KEY    an API key; not needed by a personal server
//	VIRE_LOG_LEVEL  trace, debug, info (default), warn or error
//
// # Design
//
// vire-mcp is a bridge, not a second MCP server: at start it connects to
// the server's own MCP endpoint (/mcp, Streamable HTTP, with the API key
// as a bearer token), lists the tools, resource templates and prompt the
// server offers, and offers exactly those on stdio, forwarding every call.
// The tools' names, descriptions and input schemas, their scope checks,
// validation, audit and rate limits therefore live in one place (the
// server's host/mcp package) and never drift between the two ways in. A
// bridge over the REST API would have to restate every tool and keep that
// copy in step with the server.
//
// When the server cannot be reached or refuses the key at start, vire-mcp
// still serves: it offers one tool, vire_status, whose answer says what is
// wrong and which connects again, bringing the server's tools in once that
// works. A refusal during a call (401, 403, 429) becomes a tool error that
// says what to do: set VIRE_API_KEY, use a key with the missing scope, or
// wait the seconds the server asked for.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/hashicorp/go-hclog"
	mcpsrv "github.com/mark3labs/mcp-go/server"
)

var version = "dev"

const usage = `Usage: vire-mcp

Serves Vire's MCP tools on stdin/stdout for Claude Desktop, Claude Code and
other MCP clients, forwarding them to a Vire server.

Environment:
  VIRE_URL        the Vire server (default http://127.0.0.1:8080)
  VIRE_API_KEY    API key for a hosted server; a personal server needs none
  VIRE_LOG_LEVEL  trace, debug, info (default), warn or error; logs go to stderr
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}

// run serves until stdin ends or ctx is done.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	if len(args) > 0 {
		switch args[0] {
		case "version", "-version", "--version":
			fmt.Fprintln(stdout, "vire-mcp", version)
			return 0
		case "help", "-h", "-help", "--help":
			fmt.Fprint(stdout, usage)
			return 0
		}
		fmt.Fprint(stderr, usage)
		return 2
	}
	level := hclog.LevelFromString(getenv("VIRE_LOG_LEVEL"))
	if level == hclog.NoLevel {
		level = hclog.Info
	}
	log := hclog.New(&hclog.LoggerOptions{Name: "vire-mcp", Level: level, Output: stderr})

	b, err := newBridge(getenv("VIRE_URL"), getenv("VIRE_API_KEY"), log)
	if err != nil {
		log.Error("cannot start", "error", err)
		return 1
	}
	defer b.close()
	b.start(ctx)

	s := mcpsrv.NewStdioServer(b.server)
	s.SetErrorLogger(log.StandardLogger(&hclog.StandardLoggerOptions{ForceLevel: hclog.Error}))
	if err := s.Listen(ctx, stdin, stdout); err != nil && ctx.Err() == nil {
		log.Error("stdio session ended", "error", err)
		return 1
	}
	return 0
}
