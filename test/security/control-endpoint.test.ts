import { request } from "node:http";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { ControlServer } from "../../src/control/control-server.js";

/** One raw HTTP request (any Host and Origin, as a browser or a rebinding page would send). */
interface Attempt {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string;
}

function call(port: number, o: Attempt): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: "127.0.0.1", port, method: o.method ?? "POST", path: o.path ?? "/sim/button/press", headers: o.headers },
      (res) => {
        let body = "";
        res.on("data", (d: Buffer) => (body += d.toString()));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on("error", reject);
    req.end(o.body);
  });
}

describe("the pillar's control endpoint refuses what a web page could send", () => {
  let server: ControlServer | undefined;
  afterEach(async () => {
    await server?.stop();
  });

  it("no CORS header; cross-site, rebinding and text/plain posts reach nothing; local tools still work", async () => {
    let presses = 0;
    server = new ControlServer({ port: 0, log: pino({ level: "silent" }) });
    server.route("POST", "/sim/button/press", () => ({ presses: ++presses }));
    server.route("GET", "/health", () => ({ ok: true }));
    await server.start();
    const port = server.port;

    // the pillar's own tools (pillar sim, tests, the console server) post without a body
    const local = await call(port, {});
    expect(local.status).toBe(200);
    expect(local.headers["access-control-allow-origin"]).toBeUndefined();
    expect(presses).toBe(1);
    const json = await call(port, { headers: { "content-type": "application/json" }, body: "{}" });
    expect(json.status).toBe(200);
    expect(presses).toBe(2);

    const attempts: Attempt[] = [
      // a page on another site: a "simple" cross-site POST
      { headers: { origin: "https://evil.example", "content-type": "text/plain" }, body: "x" },
      { headers: { "sec-fetch-site": "cross-site" } },
      // DNS rebinding: the browser thinks it talks to evil.example
      { headers: { host: `evil.example:${port}` } },
      // a form post from anywhere (no Origin from an old client): the body is not JSON
      { headers: { "content-type": "application/x-www-form-urlencoded" }, body: "a=1" },
      { method: "OPTIONS", headers: { origin: "https://evil.example" } },
    ];
    for (const a of attempts) {
      const r = await call(port, a);
      expect(r.status, JSON.stringify(a)).toBe(403);
      expect(r.headers["access-control-allow-origin"]).toBeUndefined();
    }
    expect(presses).toBe(2);
    const health = await call(port, { method: "GET", path: "/health", headers: { origin: "https://evil.example" } });
    expect(health.status).toBe(403);
    expect((await call(port, { method: "GET", path: "/health" })).body).toBe('{"ok":true}');
  });
});
