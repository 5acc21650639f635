import { request } from "node:http";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { loadCenterParts } from "../../../center/parts.js";
import type { CenterParts } from "../../../center/server/center-hooks.js";
import { parseConsoleConfig } from "../../../center/server/console-config.js";
import { ConsoleServer } from "../../../center/server/console-server.js";
import { addOfficer } from "../../support/console-process.js";

/** An HTTP answer as a test reads it. */
export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  json: any;
}

/**
 * One request to the console from a chosen loopback address (127.0.0.0/8 is all this machine:
 * `from` plays another client's address), with the console's own Origin on a POST.
 */
export function call(
  base: string,
  path: string,
  o: {
    method?: string;
    body?: unknown;
    raw?: string;
    cookie?: string;
    from?: string;
    headers?: Record<string, string>;
  } = {},
): Promise<Answer> {
  const url = new URL(path, base);
  const payload = o.raw ?? (o.body === undefined ? undefined : JSON.stringify(o.body));
  const method = o.method ?? (payload === undefined ? "GET" : "POST");
  const headers: Record<string, string> = {
    ...(method === "POST" ? { "content-type": "application/json", origin: url.origin } : {}),
    ...(o.cookie ? { cookie: o.cookie } : {}),
    ...o.headers,
  };
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers, localAddress: o.from ?? "127.0.0.1", agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const body = Buffer.concat(chunks).toString("utf8");
        let json: unknown = null;
        try {
          json = JSON.parse(body);
        } catch {}
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json });
      });
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(payload);
  });
}

/** The session cookie of a successful login answer. */
export function sessionCookie(a: Answer): string {
  const line = ([] as string[]).concat(a.headers["set-cookie"] ?? []).join(";");
  const m = /center_session=[^;]+/.exec(line);
  if (a.status !== 200 || !m) throw new Error(`login failed: ${a.status} ${a.body}`);
  return m[0];
}

/**
 * The console server in-process with its center parts (accounts, log) on a SQLite file in its
 * own temp folder, on a free port, with officers made by `pillar console users add`.
 */
export class ConsoleRig {
  dir = "";
  server: ConsoleServer | undefined;
  parts: CenterParts | undefined;

  constructor(
    private readonly o: {
      brokerUrl: string;
      officers?: [string, "officer" | "supervisor", string][];
      flags?: Record<string, string>;
      /** A console config document (defaults filled in). */
      config?: Record<string, unknown>;
    },
  ) {}

  get url(): string {
    return this.server!.url;
  }

  async start(): Promise<this> {
    this.dir = await mkdtemp(join(tmpdir(), "console-rig-"));
    const db = join(this.dir, "center.db");
    for (const [name, role, password] of this.o.officers ?? []) await addOfficer(db, name, role, password);
    const log = pino({ level: "silent" });
    const config = parseConsoleConfig(this.o.config ?? {});
    this.parts = await loadCenterParts({ flags: { db, ...this.o.flags }, log, config });
    this.server = new ConsoleServer({ brokerUrl: this.o.brokerUrl, port: 0, config, parts: this.parts, log });
    await this.server.start();
    return this;
  }

  login(user: string, password: string, from?: string): Promise<Answer> {
    return call(this.url, "/login", { body: { user, password }, from });
  }

  async stop(): Promise<void> {
    await this.server?.stop();
    await this.parts?.stop?.();
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
  }
}

/** An open `/api/stream` (Server-Sent Events) of a page: its status, and whether the console cut it. */
export interface OpenStream {
  status: number;
  /** What arrived so far. */
  text(): string;
  closed(): boolean;
  close(): void;
}

/** Opens `/api/stream` as a page does (kept open until `close()`). */
export function openStream(base: string, cookie: string, from = "127.0.0.1"): Promise<OpenStream> {
  return new Promise((resolve, reject) => {
    const req = request(
      new URL("/api/stream", base),
      { headers: { cookie }, localAddress: from, agent: false },
      (res) => {
        let text = "";
        let closed = false;
        res.on("data", (c: Buffer) => (text += c.toString()));
        res.on("close", () => (closed = true));
        res.on("error", () => (closed = true));
        resolve({ status: res.statusCode ?? 0, text: () => text, closed: () => closed, close: () => req.destroy() });
      },
    );
    req.on("error", reject);
    req.end();
  });
}
