import { join } from "node:path";
import type { Page } from "playwright-core";
import { Readable } from "node:stream";
import { runUsersCli } from "../../center/auth/users-cli.js";
import { Child, ROOT } from "./child.js";

/** Adds an officer account to a center database (`pillar console users add`, in-process). */
export async function addOfficer(db: string, name: string, role: "officer" | "supervisor", password: string) {
  let err = "";
  const code = await runUsersCli(["add", name, "--role", role, "--db", db], {
    stdin: Readable.from([`${password}\n`]),
    out: () => undefined,
    err: (l) => (err += l),
  });
  if (code !== 0) throw new Error(`users add ${name}: ${err}`);
}

/**
 * The center's console server (center/main.ts) as a real child process, for tests that log in,
 * restart or kill it. Learns its URL from the line it prints; stopped by pid.
 */
export class ConsoleProcess {
  child: Child | undefined;
  url = "";

  constructor(private readonly args: string[]) {}

  get output(): string {
    return this.child?.output ?? "";
  }

  async start(timeoutMs = 60_000): Promise<this> {
    this.child = new Child([join(ROOT, "center/main.ts"), ...this.args]);
    this.url = (await this.child.waitFor(/operator console: (\S+)/, timeoutMs))[1]!;
    return this;
  }

  /** Logs in with `POST /login` as a script would; resolves to the session cookie for `api`. */
  async login(user: string, password: string): Promise<string> {
    const res = await fetch(new URL("/login", this.url), {
      method: "POST",
      headers: { "content-type": "application/json", origin: new URL(this.url).origin },
      body: JSON.stringify({ user, password }),
    });
    if (!res.ok) throw new Error(`login ${user}: ${res.status} ${await res.text()}`);
    return /center_session=[^;]+/.exec(res.headers.get("set-cookie") ?? "")![0];
  }

  /** A GET of the console's JSON API with a session cookie. */
  async api(path: string, cookie: string): Promise<any> {
    const res = await fetch(new URL(path, this.url), { headers: { cookie } });
    if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
    return await res.json();
  }

  /** A JSON POST as the page makes it (its Origin, its session cookie); resolves to status and body. */
  async post(path: string, cookie: string, body: unknown): Promise<{ status: number; json: any }> {
    const res = await fetch(new URL(path, this.url), {
      method: "POST",
      headers: { "content-type": "application/json", origin: new URL(this.url).origin, cookie },
      body: JSON.stringify(body),
    });
    return { status: res.status, json: await res.json().catch(() => null) };
  }

  /** Stops it by pid: SIGTERM (a clean stop) or SIGKILL (a crash); resolves once it is gone. */
  async kill(signal: "SIGTERM" | "SIGKILL" = "SIGTERM"): Promise<void> {
    const c = this.child;
    this.child = undefined;
    await c?.kill(signal);
  }
}

/** A request made by a console page itself (its cookie, its Origin), as the page's scripts make them. */
export async function pageFetch(page: Page, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  return await page.evaluate(
    async ([p, b]) => {
      const res = await fetch(p as string, {
        method: b === undefined ? "GET" : "POST",
        headers: b === undefined ? {} : { "content-type": "application/json" },
        body: b === undefined ? undefined : JSON.stringify(b),
      });
      return { status: res.status, json: await res.json().catch(() => null) };
    },
    [path, body] as const,
  );
}
