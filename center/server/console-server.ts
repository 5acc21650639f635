import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "pino";
import { HttpError } from "../auth/http-util.js";
import { BrokerTls } from "./broker-tls.js";
import { officerStamp, passCenterGate, serverCorrelationId, tapPublished } from "./center-gate.js";
import type { CenterParts, Officer } from "./center-hooks.js";
import { type ConsoleConfig, parseConsoleConfig } from "./console-config.js";
import { createConsoleListener } from "./console-listener.js";
import { checkPublish } from "./page-publish.js";
import { PillarBridge } from "./pillar-bridge.js";
import type { PillarMsg } from "./pillar-messages.js";
import { requestProblem } from "./request-guard.js";
import { StreamLimit } from "./stream-limit.js";
import { applySecurityHeaders, securityHeaders } from "./security-headers.js";
import { webBundle } from "./web-bundle.js";

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

/** A page that reads slower than this much backlog is cut off (it reconnects and gets a snapshot). */
const MAX_STREAM_BACKLOG = 8 * 1024 * 1024;
/** A page's publish (an SDP offer or answer is the largest, < 64 KiB). */
const MAX_PUBLISH_BYTES = 128 * 1024;

/**
 * `pillar console`: the officers' page (center/web, built by esbuild at start) and its bridge to
 * MQTT. The bridge (pillar-bridge.ts) checks every pillar message against the contract's schemas
 * and streams the valid ones to every page (Server-Sent Events, `/api/stream`, a snapshot of the
 * pillars' state and the open incidents first); the page publishes through `POST /api/publish`,
 * limited to the center's signaling, incident ack/close and the self-test command, each payload
 * checked (page-publish.ts). Every request's Host, and every state-changing request's Origin and
 * JSON content type, are checked (request-guard.ts). Broker credentials stay on the server.
 */
export class ConsoleServer {
  private server: Server | undefined;
  private bridge: PillarBridge | undefined;
  private brokerTls: BrokerTls | undefined;
  private readonly streams = new StreamLimit();
  private readonly config: ConsoleConfig;
  private readonly headers: Record<string, string>;
  /** This run of the server (pages tell a reconnect from a restart by it). */
  private readonly boot = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;

  constructor(private readonly o: ConsoleOptions) {
    this.config = o.config ?? parseConsoleConfig({});
    this.headers = securityHeaders(this.config.tileUrl);
  }

  get port(): number {
    return (this.server?.address() as AddressInfo | null)?.port ?? 0;
  }

  get url(): string {
    return `${this.config.https ? "https" : "http"}://${this.o.host ?? "127.0.0.1"}:${this.port}/`;
  }

  async start(): Promise<void> {
    const page = webBundle(); // built while the bridge connects
    if (this.config.brokerTls) {
      this.brokerTls = new BrokerTls(this.config.brokerTls, this.o.log);
      await this.brokerTls.start();
    }
    const bridge = new PillarBridge({
      brokerUrl: this.o.brokerUrl,
      username: this.o.username,
      password: this.o.password,
      secondaryTopic: this.o.secondaryTopic,
      clientId: this.o.mqttClientId,
      tls: this.brokerTls,
      taps: this.o.parts?.taps ?? [],
      recall: this.o.parts?.recall,
      log: this.o.log,
    });
    this.bridge = bridge;
    bridge.onMessage = (m) => this.broadcast(m);
    this.o.parts?.attach?.({ publish: (topic, payload, officer) => this.publishFor(topic, payload, officer) });
    await Promise.all([bridge.start(), page]);
    const server = await createConsoleListener(this.config.https, (req, res) => void this.handle(req, res));
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
    this.streams.clear("end");
    const server = this.server;
    this.server = undefined;
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
    await this.bridge?.stop();
    this.bridge = undefined;
    this.brokerTls?.stop();
    this.brokerTls = undefined;
  }

  /** Cut every page's stream (they reconnect within a second and get the snapshot again). */
  dropStreams(): void {
    this.streams.clear("destroy");
  }

  private broadcast(m: PillarMsg): void {
    const line = `data: ${JSON.stringify(m)}\n\n`;
    for (const s of this.streams) {
      if (s.writableLength > MAX_STREAM_BACKLOG) {
        this.o.log.warn("a page reads too slowly: its stream is cut (it reconnects)");
        this.streams.drop(s);
      } else s.write(line);
    }
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    applySecurityHeaders(res, this.headers);
    const json = (status: number, body: unknown) => {
      if (res.headersSent) return void res.destroy();
      res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" });
      res.end(JSON.stringify(body));
    };
    let url: URL;
    try {
      url = new URL(req.url ?? "/", "http://console");
    } catch {
      return json(400, { error: "not a request path" });
    }
    try {
      const problem = requestProblem(req, this.config.allowedOrigins);
      if (problem) {
        this.o.log.warn({ method: req.method, path: url.pathname.slice(0, 200), problem }, "request refused");
        return json(403, { error: problem });
      }
      const gate = await passCenterGate(this.o.parts, req, res, url);
      if (!gate) return;
      const file = req.method === "GET" ? (await webBundle()).get(url.pathname) : undefined;
      if (file) {
        res.writeHead(200, { "content-type": file.type, "cache-control": "no-store" });
        res.end(file.body);
        return;
      }
      if (req.method === "GET" && url.pathname === "/api/config") {
        // not shown to pages: file paths, the session id, the clip storage's token
        const {
          https: _tls,
          brokerTls: _b,
          mqttClientId: _id,
          clipUploadHeaders: _h,
          trustedProxies: _p,
          ...shown
        } = this.config;
        // who is logged in: the page shows and uses that name (null: the open demo console)
        const o = gate.officer;
        const officer = o ? { id: o.id, name: o.name, role: o.role } : null;
        return json(200, {
          sim: !!this.o.simControlUrl,
          secondaryTopic: this.o.secondaryTopic ?? null,
          ...shown,
          officer,
        });
      }
      if (req.method === "GET" && url.pathname === "/api/stream") return this.stream(req, res, gate.officer);
      if (req.method === "POST" && url.pathname === "/api/publish")
        return json(...(await this.publish(req, gate.officer)));
      if (req.method === "POST" && url.pathname === "/api/sim/button") return json(...(await this.pressSimButton()));
      json(404, { error: `no route ${req.method} ${url.pathname.slice(0, 200)}` });
    } catch (err) {
      // what a visitor sent wrong is a 4xx naming it; only the console's own faults are a 500
      if (err instanceof HttpError) return json(err.status, { error: err.message });
      if (err instanceof URIError) return json(400, { error: "malformed percent-encoding in the request path" });
      this.o.log.error({ err: (err as Error).message, path: url.pathname.slice(0, 200) }, "request failed");
      json(500, { error: "the console failed to answer this request" });
    }
  }

  private stream(req: IncomingMessage, res: ServerResponse, officer: Officer | null): void {
    // per officer (every session of theirs), or per client address on the open demo console
    const holder = officer ? `officer:${officer.id}` : `address:${req.socket.remoteAddress}`;
    if (!this.streams.admit(holder, res)) {
      res.writeHead(503, { "content-type": "application/json", "retry-after": "5" });
      res.end(JSON.stringify({ error: "too many pages open on this console" }));
      return;
    }
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-store", connection: "keep-alive" });
    const snapshot = (this.bridge?.snapshot() ?? [])
      .map((m) => `data: ${JSON.stringify({ ...m, replay: true })}\n\n`)
      .join("");
    res.write(`retry: 1000\n\n${snapshot}event: synced\ndata: ${JSON.stringify({ boot: this.boot })}\n\n`);
  }

  private async publish(req: IncomingMessage, officer: Officer | null): Promise<[number, unknown]> {
    const checked = checkPublish(await body(req));
    if (Array.isArray(checked)) return [checked[0], { error: checked[1] }];
    if (!this.bridge?.connected) return [503, { error: "console is not connected to the broker" }];
    // a command's correlation id is the server's, unique, so every command is in the log once
    const correlationId = "correlationId" in checked.payload ? serverCorrelationId(checked.topic) : undefined;
    await this.publishFor(checked.topic, { ...checked.payload, ...(correlationId ? { correlationId } : {}) }, officer);
    return [200, correlationId ? { ok: true, correlationId } : { ok: true }];
  }

  /** Publishes for an officer (stamped with them) and hands it to the center's taps. */
  private async publishFor(topic: string, body: object, officer: Officer | null): Promise<void> {
    const bridge = this.bridge;
    if (!bridge?.connected) throw new Error("console is not connected to the broker");
    // issuedAt from the server's clock (the center's), not the browser's: pillars refuse stale ones
    const payload = officerStamp(
      topic,
      { ...body, issuedAt: new Date().toISOString() },
      officer,
      this.o.parts?.callTokenKey,
    );
    // logged before it is sent: the pillar's answer may come back before the broker's PUBACK,
    // and an answer counts only for a command the log knows (center/log)
    await tapPublished(this.o.parts, topic, payload, officer);
    await bridge.publish(topic, JSON.stringify(payload));
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
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_PUBLISH_BYTES) throw new HttpError(413, `request body over ${MAX_PUBLISH_BYTES} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}
