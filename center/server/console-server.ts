import { readFile } from "node:fs/promises";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import type { MqttClient } from "mqtt";
import type { Logger } from "pino";
import { connectConsoleBroker } from "./broker-session.js";
import { officerStamp, passCenterGate, tapPublished } from "./center-gate.js";
import type { CenterParts, Officer } from "./center-hooks.js";
import { type ConsoleConfig, parseConsoleConfig } from "./console-config.js";
import { createConsoleListener } from "./console-listener.js";

const PUBLIC = fileURLToPath(new URL("../web/public/", import.meta.url));
const FILES: Record<string, string> = {
  "/": "index.html",
  "/index.html": "index.html",
  "/console.js": "console.js",
  "/console.css": "console.css",
};
const TYPES: Record<string, string> = {
  html: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
};

/** Topics the page may publish to: the center side of signaling and the incident commands. */
const ALLOWED =
  /^pillar\/v1\/[a-z0-9][a-z0-9-]{1,62}\/(webrtc\/(request|answer|candidate\/center|pickup|hangup)|cmd\/incident\.(ack|close))$/;

export interface ConsoleOptions {
  /** The center's broker. */
  brokerUrl: string;
  username?: string;
  password?: string;
  port: number;
  /** Listen address (default 127.0.0.1). */
  host?: string;
  /** A simulated pillar's control endpoint: the page shows a virtual pillar button. */
  simControlUrl?: string;
  /** Also listen for offers re-routed to this secondary-center topic prefix. */
  secondaryTopic?: string;
  /** The console's config (time zone, map, overdue time); defaults when left out. */
  config?: ConsoleConfig;
  /** The center's accounts, log and report (center/server/center-hooks.ts). */
  parts?: CenterParts;
  /** A fixed MQTT client id: a persistent session, acknowledged after the log stored (broker-session.ts). */
  mqttClientId?: string;
  log: Logger;
}

interface Msg {
  topic: string;
  payload: unknown;
  retain: boolean;
}

/**
 * `pillar console`: the operator page for the control center and installers. Serves a plain
 * HTML/JS page and bridges it to MQTT: the server subscribes to the pillars' status, events,
 * signaling and command results and streams them to every page (Server-Sent Events); the page
 * publishes through `POST /api/publish`, limited to the center's signaling topics and
 * `incident.ack`/`incident.close`. Broker credentials stay on the server.
 */
export class ConsoleServer {
  private server: Server | undefined;
  private client: MqttClient | undefined;
  private readonly streams = new Set<ServerResponse>();
  /** Latest retained-like state per topic (status, session) and a log of events. */
  private readonly latest = new Map<string, Msg>();
  private readonly history: Msg[] = [];

  constructor(private readonly o: ConsoleOptions) {}

  get port(): number {
    return (this.server?.address() as AddressInfo | null)?.port ?? 0;
  }

  get url(): string {
    return `${this.o.config?.https ? "https" : "http"}://${this.o.host ?? "127.0.0.1"}:${this.port}/`;
  }

  async start(): Promise<void> {
    const client = connectConsoleBroker({
      brokerUrl: this.o.brokerUrl,
      username: this.o.username,
      password: this.o.password,
      clientId: this.o.mqttClientId,
      taps: this.o.parts?.taps ?? [],
      log: this.o.log,
    });
    this.client = client;
    client.on("message", (topic, payload, packet) => this.onMessage(topic, payload, packet.retain));
    client.on("error", (err) => this.o.log.warn({ err: err.message }, "broker error"));
    const filters = ["pillar/v1/+/status", "pillar/v1/+/event", "pillar/v1/+/webrtc/#", "pillar/v1/+/cmd/+/result"];
    if (this.o.secondaryTopic) filters.push(`${this.o.secondaryTopic}/#`);
    client.on("connect", () => {
      this.o.log.info("connected to the broker");
      client.subscribe(filters, { qos: 1 });
    });
    // Not waited for: the page is served at once and the bridge (re)connects on its own, so the
    // console may start before the broker (e.g. beside `pillar run --sim`).
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, 2000);
      client.once("connect", () => (clearTimeout(t), resolve()));
    });
    const server = await createConsoleListener(this.o.config?.https, (req, res) => void this.handle(req, res));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.o.port, this.o.host ?? "127.0.0.1", () => resolve());
    });
    this.o.log.info(
      { url: this.url, broker: this.o.brokerUrl.replace(/\/\/[^@]*@/, "//***@") },
      "operator console listening",
    );
  }

  async stop(): Promise<void> {
    for (const s of this.streams) s.end();
    this.streams.clear();
    const server = this.server;
    this.server = undefined;
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
    const c = this.client;
    this.client = undefined;
    if (c) await c.endAsync(true);
  }

  private onMessage(topic: string, payload: Buffer, retain: boolean): void {
    let body: unknown = null;
    if (payload.length) {
      try {
        body = JSON.parse(payload.toString());
      } catch {
        return;
      }
    }
    const msg: Msg = { topic, payload: body, retain };
    if (/\/(status|webrtc\/session)$/.test(topic)) this.latest.set(topic, msg);
    else if (topic.endsWith("/event")) {
      this.history.push(msg);
      if (this.history.length > 500) this.history.shift();
    }
    const line = `data: ${JSON.stringify(msg)}\n\n`;
    for (const s of this.streams) s.write(line);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://console");
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    try {
      const gate = await passCenterGate(this.o.parts, req, res, url);
      if (!gate) return;
      const file = FILES[url.pathname];
      if (req.method === "GET" && file) {
        const ext = file.split(".").pop()!;
        res.writeHead(200, { "content-type": TYPES[ext]!, "cache-control": "no-store" });
        res.end(await readFile(PUBLIC + file));
        return;
      }
      if (req.method === "GET" && url.pathname === "/api/config") {
        const { https: _tls, mqttClientId: _id, ...shown } = this.o.config ?? parseConsoleConfig({});
        return json(200, { sim: !!this.o.simControlUrl, secondaryTopic: this.o.secondaryTopic ?? null, ...shown });
      }
      if (req.method === "GET" && url.pathname === "/api/stream") return this.stream(res);
      if (req.method === "POST" && url.pathname === "/api/publish")
        return json(...(await this.publish(await body(req), gate.officer)));
      if (req.method === "POST" && url.pathname === "/api/sim/button") return json(...(await this.pressSimButton()));
      json(404, { error: `no route ${req.method} ${url.pathname}` });
    } catch (err) {
      json(500, { error: (err as Error).message });
    }
  }

  private stream(res: ServerResponse): void {
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-store", connection: "keep-alive" });
    const snapshot = [...this.latest.values(), ...this.history]
      .map((m) => `data: ${JSON.stringify({ ...m, replay: true })}\n\n`)
      .join("");
    res.write(`retry: 1000\n\n${snapshot}`);
    this.streams.add(res);
    res.on("close", () => this.streams.delete(res));
  }

  private async publish(text: string, officer: Officer | null): Promise<[number, unknown]> {
    let doc: { topic?: unknown; payload?: unknown };
    try {
      doc = JSON.parse(text) as typeof doc;
    } catch {
      return [400, { error: "body is not JSON" }];
    }
    if (typeof doc.topic !== "string" || !ALLOWED.test(doc.topic))
      return [403, { error: `the console may not publish to ${String(doc.topic)}` }];
    if (!doc.payload || typeof doc.payload !== "object") return [400, { error: "payload must be an object" }];
    const client = this.client;
    if (!client?.connected) return [503, { error: "console is not connected to the broker" }];
    // issuedAt from the server's clock (the center's), not the browser's: pillars refuse stale ones
    const payload = officerStamp(
      doc.topic,
      { ...(doc.payload as object), issuedAt: new Date().toISOString() },
      officer,
    );
    await client.publishAsync(doc.topic, JSON.stringify(payload), { qos: 1 });
    await tapPublished(this.o.parts, doc.topic, payload, officer);
    return [200, { ok: true }];
  }

  /** The virtual pillar button: press, hold 100 ms, release (a simulated pillar only). */
  private async pressSimButton(): Promise<[number, unknown]> {
    const base = this.o.simControlUrl;
    if (!base) return [404, { error: "no simulated pillar attached (start the console with --sim-control URL)" }];
    const press = await fetch(new URL("/sim/button/press", base), { method: "POST" });
    await new Promise((r) => setTimeout(r, 100));
    await fetch(new URL("/sim/button/release", base), { method: "POST" });
    return [press.ok ? 200 : 502, { pressed: press.ok }];
  }
}

async function body(req: IncomingMessage): Promise<string> {
  let text = "";
  for await (const chunk of req) {
    text += chunk;
    if (text.length > 256_000) throw new Error("body too large");
  }
  return text;
}
