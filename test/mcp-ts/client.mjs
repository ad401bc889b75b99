// Drives Vire with the official MCP TypeScript SDK client, the way Claude
// Desktop, Claude Code and other SDK-based clients do: over Streamable HTTP
// with an API key, and over stdio through the vire-mcp binary. It lists the
// tools, calls three of them and sends an unknown argument, then prints one
// JSON object with what it saw on stdout. The Go test in cmd/vire-mcp
// starts the server and checks that output.
//
// Environment: VIRE_URL (the server), VIRE_API_KEY, VIRE_MCP_BIN (the
// built vire-mcp).
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";

const { VIRE_URL, VIRE_API_KEY, VIRE_MCP_BIN } = process.env;
if (!VIRE_URL || !VIRE_API_KEY || !VIRE_MCP_BIN) {
  console.error("set VIRE_URL, VIRE_API_KEY and VIRE_MCP_BIN");
  process.exit(2);
}

function summary(result) {
  const text = result.content.filter((c) => c.type === "text").map((c) => c.text).join("\n");
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {
    // tool errors are prose
  }
  return { isError: result.isError === true, text, json, structured: result.structuredContent ?? null };
}

async function exercise(name, transport) {
  const client = new Client({ name: "vire-ts-test", version: "1.0.0" });
  await client.connect(transport);
  const portfolio = `TS ${name}`;
  const out = {
    server: client.getServerVersion(),
    instructions: client.getInstructions() ?? "",
    tools: (await client.listTools()).tools.map((t) => ({
      name: t.name,
      readOnly: t.annotations?.readOnlyHint ?? null,
      required: t.inputSchema.required ?? [],
    })),
    calls: {},
  };
  out.calls.strategy_update = summary(
    await client.callTool({
      name: "strategy_update",
      arguments: { portfolio, risk_appetite: "growth", target_allocation: { "Australian shares": 70, Cash: 5 } },
    }),
  );
  out.calls.strategy_get = summary(await client.callTool({ name: "strategy_get", arguments: { portfolio } }));
  out.calls.market_quote = summary(await client.callTool({ name: "market_quote", arguments: { tickers: ["CBA.AU", "MSFT.US"] } }));
  out.calls.unknown_argument = summary(
    await client.callTool({ name: "strategy_get", arguments: { portfolio, portfolioName: portfolio } }),
  );
  if (transport.sessionId !== undefined) {
    out.sessionId = transport.sessionId;
  }
  await client.close();
  return out;
}

try {
  const result = {};
  result.http = await exercise(
    "http",
    new StreamableHTTPClientTransport(new URL("/mcp", VIRE_URL), {
      requestInit: { headers: { Authorization: `Bearer ${VIRE_API_KEY}` } },
    }),
  );
  result.stdio = await exercise(
    "stdio",
    new StdioClientTransport({
      command: VIRE_MCP_BIN,
      env: { VIRE_URL, VIRE_API_KEY, VIRE_LOG_LEVEL: "debug" },
      stderr: "inherit",
    }),
  );
  result.node = process.version;
  process.stdout.write(JSON.stringify(result) + "\n");
} catch (err) {
  process.stdout.write(JSON.stringify({ error: String(err?.stack ?? err) }) + "\n");
  process.exit(1);
}
