import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "pino";

/** The control endpoint's requests are tiny (sim hooks, state); anything larger is refused. */
export const MAX_BODY_BYTES = 64 * 1024;

export type RouteHandler = (req: IncomingMessage, body: string, url: URL) => Promise<unknown> | unknown;

/** An HTTP error with a status code, for route handlers. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The pillar's local control endpoint, bound to 127.0.0.1 only: the simulated hardware's hooks
 * (`POST /sim/button/press` …) and read-only state (`GET /health`). Features add routes with
 * `route()`. Answers JSON.
 */
export class ControlServer {
  private server: Server | undefined;
  private readonly routes = new Map<string, RouteHandler>();

  constructor(private readonly o: { port: number; log: Logger }) {}

  route(method: "GET" | "POST", path: string, handler: RouteHandler): void {
    this.routes.set(`${method} ${path}`, handler);
  }

  get port(): number {
    return (this.server?.address() as AddressInfo | null)?.port ?? 0;
  }

  async start(): Promise<void> {
    const server = createServer((req, res) => void this.handle(req, res));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.o.port, "127.0.0.1", () => resolve());
    });
    this.o.log.info({ url: `http://127.0.0.1:${this.port}` }, "control endpoint listening");
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  /**
   * Why a request is refused (undefined: allowed). Only local tools may call: a Host other than
   * the loopback (DNS rebinding), a browser's cross-site request (an Origin or Sec-Fetch-Site
   * from elsewhere) and a POST body that is not JSON are refused.
   */
  private refusal(req: IncomingMessage): string | undefined {
    const host = (req.headers.host ?? "").toLowerCase();
    if (!/^(127\.0\.0\.1|localhost|\[::1\])(:\d+)?$/.test(host)) return `host ${host || "(none)"} is not the loopback`;
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== `http://${host}`) return `cross-origin request from ${origin}`;
    const site = req.headers["sec-fetch-site"];
    if (site !== undefined && site !== "same-origin" && site !== "none") return `cross-site request (${site})`;
    if (req.method !== "GET" && req.method !== "POST") return `method ${req.method} not allowed`;
    const type = (req.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
    const hasBody = Number(req.headers["content-length"] ?? 0) > 0 || req.headers["transfer-encoding"] !== undefined;
    if (req.method === "POST" && hasBody && type !== "application/json") return "a POST body must be application/json";
    return undefined;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const handler = this.routes.get(`${req.method} ${url.pathname}`);
    const send = (status: number, body: unknown) => {
      // no CORS header: a web page the operator opens cannot read nor drive this endpoint
      res.writeHead(status, { "content-type": "application/json", "x-content-type-options": "nosniff" });
      res.end(JSON.stringify(body));
    };
    const refused = this.refusal(req);
    if (refused) {
      req.resume();
      this.o.log.warn({ method: req.method, path: url.pathname, why: refused }, "control request refused");
      return send(403, { error: refused });
    }
    if (!handler)
      return send(404, { error: `no route ${req.method} ${url.pathname}`, routes: [...this.routes.keys()] });
    // bounded before reading: the declared length first, then the bytes actually received
    const declared = Number(req.headers["content-length"] ?? 0);
    if (declared > MAX_BODY_BYTES) {
      req.resume();
      return send(413, { error: `body too large (limit ${MAX_BODY_BYTES} bytes)` });
    }
    const parts: Buffer[] = [];
    let size = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        req.destroy();
        return send(413, { error: `body too large (limit ${MAX_BODY_BYTES} bytes)` });
      }
      parts.push(chunk);
    }
    const body = Buffer.concat(parts).toString("utf8");
    try {
      send(200, (await handler(req, body, url)) ?? { ok: true });
    } catch (err) {
      const status = err instanceof HttpError ? err.status : 500;
      send(status, { error: (err as Error).message });
    }
  }
}
