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

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const handler = this.routes.get(`${req.method} ${url.pathname}`);
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/json", "access-control-allow-origin": "*" });
      res.end(JSON.stringify(body));
    };
    if (req.method === "OPTIONS") {
      res.writeHead(204, {
        "access-control-allow-origin": "*",
        "access-control-allow-methods": "GET, POST",
        "access-control-allow-headers": "content-type",
      });
      res.end();
      return;
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
