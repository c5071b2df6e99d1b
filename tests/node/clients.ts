// The TypeScript SDK as a real client of this server: lists, calls and subscribes, over HTTP or stdio.
//
//   node clients.ts http  <url> [token]        # e.g. http://127.0.0.1:8000/mcp
//   node clients.ts stdio <command> [args...]  # e.g. .venv/bin/hotelrunner-mcp serve --sandbox
//
// Run from .cache/node (scripts/conformance.py copies it there, beside node_modules). Node 22.18+ runs
// TypeScript by erasing its types. The SDK validates every structuredContent against the tool's
// outputSchema (listTools remembers them); this script also checks that each answer has one.
// It prints `SUBSCRIBED` once subscribed to the changes resource, then waits for one
// notifications/resources/updated when EXPECT_UPDATE=1 (the caller posts a push then), and ends with one
// JSON line: {"ok": true, ...} or {"ok": false, "error": ...} (exit code 1).

import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { ResourceUpdatedNotificationSchema } from "@modelcontextprotocol/sdk/types.js";

const CHANGES = "hotelrunner://reservations/changes";
const UPDATE_WAIT_MS = 30_000;

function today(offsetDays: number): string {
  const day = new Date(Date.now() + offsetDays * 86_400_000);
  return day.toISOString().slice(0, 10);
}

const CALLS: Array<[string, Record<string, unknown>]> = [
  ["get_rooms", {}],
  ["get_reservations", { arriving_from: today(0), arriving_to: today(30) }],
  ["get_reservation_changes", { since_change_id: 0 }],
  ["get_occupancy", { start: today(0), end: today(6) }],
  ["get_calendar", { start_date: today(0), end_date: today(6) }],
];

async function main(): Promise<Record<string, unknown>> {
  const [mode, target, ...rest] = process.argv.slice(2);
  const client = new Client({ name: "ts-sdk-check", version: "1.0.0" });
  let transport;
  if (mode === "http") {
    const headers: Record<string, string> = rest[0] ? { Authorization: `Bearer ${rest[0]}` } : {};
    transport = new StreamableHTTPClientTransport(new URL(target), { requestInit: { headers } });
  } else if (mode === "stdio") {
    transport = new StdioClientTransport({ command: target, args: rest, env: process.env as Record<string, string>, stderr: "inherit" });
  } else {
    throw new Error("usage: clients.ts http <url> [token] | stdio <command> [args...]");
  }
  let updated: ((uri: string) => void) | undefined;
  const update = new Promise<string>((resolve) => (updated = resolve));
  client.setNotificationHandler(ResourceUpdatedNotificationSchema, (notification) => updated?.(notification.params.uri));
  await client.connect(transport);

  const capabilities = client.getServerCapabilities() ?? {};
  if (!capabilities.resources?.subscribe) throw new Error("the server does not declare resources.subscribe");
  const tools = (await client.listTools()).tools;
  const names = tools.map((tool) => tool.name);
  const structured: string[] = [];
  for (const [name, args] of CALLS) {
    const result = await client.callTool({ name, arguments: args }); // validated against outputSchema by the SDK
    if (result.isError) throw new Error(`${name} failed: ${JSON.stringify(result.content)}`);
    if (!result.structuredContent) throw new Error(`${name} returned no structuredContent`);
    structured.push(name);
  }
  let unknownTool = "not refused";
  try {
    await client.callTool({ name: "no_such_tool", arguments: {} });
  } catch (error) {
    unknownTool = String((error as { code?: number }).code);
  }
  const resources = (await client.listResources()).resources.map((r) => r.uri);
  const status = await client.readResource({ uri: "hotelrunner://setup-status" });
  const prompts = (await client.listPrompts()).prompts.map((p) => p.name);
  await client.setLoggingLevel("warning");
  await client.subscribeResource({ uri: CHANGES });
  console.log("SUBSCRIBED");
  let notified: string | null = null;
  if (process.env.EXPECT_UPDATE === "1") {
    const timeout = new Promise<null>((resolve) => setTimeout(() => resolve(null), UPDATE_WAIT_MS));
    notified = await Promise.race([update, timeout]);
    if (notified === null) throw new Error(`no notifications/resources/updated within ${UPDATE_WAIT_MS} ms`);
  }
  await client.unsubscribeResource({ uri: CHANGES });
  await client.close();
  return {
    ok: true,
    protocol: mode,
    tools: names,
    structured,
    unknown_tool_error: unknownTool,
    resources,
    status_mime: status.contents[0]?.mimeType,
    prompts,
    notified,
  };
}

main().then(
  (summary) => {
    console.log(JSON.stringify(summary));
    process.exit(0);
  },
  (error) => {
    console.log(JSON.stringify({ ok: false, error: String(error?.stack ?? error) }));
    process.exit(1);
  },
);
