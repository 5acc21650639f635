import { readFile } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "pino";
import type { CenterAuth, CenterRoutes, Officer } from "../server/center-hooks.js";
import type { Account, AccountStore } from "./accounts.js";
import { AddressBudget } from "./address-budget.js";
import { CheckQueue, QueueFull } from "./check-queue.js";
import { clientAddress } from "./client-address.js";
import { HttpError, cookie, isTls, readJson, sendJson } from "./http-util.js";
import { LogBudget } from "./log-budget.js";
import { LoginThrottle, type Reservation } from "./login-throttle.js";
import { safeNext } from "./next-path.js";

export const SESSION_COOKIE = "center_session";
const PAGE_DIR = new URL("./page/", import.meta.url);
const PAGES: Record<string, [string, string]> = {
  "/login": ["login.html", "text/html; charset=utf-8"],
  "/login.js": ["login.js", "text/javascript; charset=utf-8"],
};

const officerOf = (a: Account): Officer => ({ id: a.name, name: a.name, role: a.role });

export interface SessionAuthOptions {
  throttle?: LoginThrottle;
  checks?: CheckQueue;
  /** Wrong passwords per client address, whatever the name (address-budget.ts). */
  addresses?: AddressBudget;
  /** Reverse proxies whose X-Forwarded-For names the client (client-address.ts). */
  trustedProxies?: readonly string[];
}

/**
 * Officer login for the console: `POST /login` with JSON `{user, password, next?}` sets the
 * session cookie (HttpOnly, SameSite=Strict, Secure over TLS) and answers the officer and where
 * to go (`next`, only a path of the console: next-path.ts); `POST /logout` ends it; `GET /api/me`
 * says who is logged in. Failed logins are slowed per user and client address (LoginThrottle,
 * the attempt counted before its check, one check at a time): while a wait is due, attempts are
 * refused with 429 and `Retry-After`, the password unchecked. Password checks go through a
 * bounded queue (CheckQueue: 429/503 when full). The login page is served from memory (`start`).
 * The console server checks Origin and JSON on every state-changing request before this.
 */
export class SessionAuth implements CenterAuth, CenterRoutes {
  readonly loginPath = "/login";
  private readonly throttle: LoginThrottle;
  private readonly checks: CheckQueue;
  private readonly addresses: AddressBudget;
  private pages: Promise<Map<string, [Buffer, string]>> | undefined;
  private readonly refusals: LogBudget;
  private readonly failures: LogBudget;

  constructor(
    private readonly accounts: AccountStore,
    private readonly log: Logger,
    private readonly o: SessionAuthOptions = {},
  ) {
    this.throttle = o.throttle ?? new LoginThrottle();
    this.checks = o.checks ?? new CheckQueue();
    this.addresses = o.addresses ?? new AddressBudget();
    this.refusals = new LogBudget(log);
    this.failures = new LogBudget(log);
  }

  /** Reads the login page and its script into memory (a flood of logins must not queue file reads). */
  async start(): Promise<void> {
    await this.page("/login");
  }

  isPublic(pathname: string, method: string): boolean {
    if (method === "GET" || method === "HEAD") return pathname in PAGES;
    return method === "POST" && (pathname === "/login" || pathname === "/logout");
  }

  async officer(req: IncomingMessage): Promise<Officer | null> {
    const token = cookie(req, SESSION_COOKIE);
    const account = token ? await this.accounts.session(token) : null;
    return account ? officerOf(account) : null;
  }

  async handle(req: IncomingMessage, res: ServerResponse, url: URL, officer: Officer | null): Promise<boolean> {
    const page = await this.page(url.pathname);
    try {
      if (req.method === "GET" && page) {
        res.writeHead(200, { "content-type": page[1], "cache-control": "no-store" });
        res.end(page[0]);
      } else if (req.method === "POST" && url.pathname === "/login") await this.login(req, res);
      else if (req.method === "POST" && url.pathname === "/logout") await this.logout(req, res, officer);
      else if (req.method === "GET" && url.pathname === "/api/me")
        officer ? sendJson(res, 200, officer) : sendJson(res, 401, { error: "not logged in" });
      else return false;
    } catch (err) {
      if (!(err instanceof HttpError)) throw err;
      sendJson(res, err.status, { error: err.message });
    }
    return true;
  }

  private async page(pathname: string): Promise<[Buffer, string] | undefined> {
    if (!(pathname in PAGES)) return undefined;
    const load = async ([path, [file, type]]: [string, [string, string]]): Promise<[string, [Buffer, string]]> => [
      path,
      [await readFile(new URL(file, PAGE_DIR)), type],
    ];
    const pages = (this.pages ??= Promise.all(Object.entries(PAGES).map(load)).then((e) => new Map(e)));
    return (await pages).get(pathname);
  }

  private async login(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const doc = await readJson(req, 4096);
    const user = typeof doc.user === "string" ? doc.user.trim() : "";
    const password = typeof doc.password === "string" ? doc.password : "";
    if (!user || !password || user.length > 64 || password.length > 256)
      throw new HttpError(400, "give user (at most 64 characters) and password (at most 256)");
    const ip = clientAddress(req, this.o.trustedProxies ?? []);
    const attempt = this.admit(user, ip);
    if (typeof attempt === "number") {
      const s = Math.ceil(attempt / 1000);
      this.refusals.warn({ user, ip, waitS: s }, "login refused: too many failed attempts");
      const body = { error: `too many failed attempts: try again in ${s} s`, retryAfterS: s };
      return sendJson(res, 429, body, { "retry-after": String(s) });
    }
    let account: Account | null;
    try {
      account = await this.checks.run(ip, () => this.accounts.verify(user, password), attempt.clean);
    } catch (err) {
      attempt.cancel(); // not checked: not a failure
      this.addresses.refund(ip);
      if (!(err instanceof QueueFull)) throw err;
      this.refusals.warn({ user, ip, status: err.status }, "login refused: too many password checks at once");
      return sendJson(res, err.status, { error: err.message, retryAfterS: 1 }, { "retry-after": "1" });
    } finally {
      attempt.done();
    }
    if (!account) {
      const next = attempt.waitIfWrong;
      this.failures.warn({ user, ip, nextWaitMs: next }, "login failed");
      return sendJson(res, 401, {
        error: "wrong user name or password",
        ...(next > 0 ? { retryAfterS: Math.ceil(next / 1000) } : {}),
      });
    }
    attempt.succeeded();
    this.addresses.refund(ip);
    const token = await this.accounts.openSession(account);
    this.log.info({ user: account.name, role: account.role, ip }, "officer logged in");
    sendJson(
      res,
      200,
      { ...officerOf(account), next: safeNext(doc.next) },
      { "set-cookie": this.cookieLine(req, token, 12 * 3600) },
    );
  }

  /** This user's attempt from this address (LoginThrottle), within the address's budget; else the wait (ms). */
  private admit(user: string, ip: string): (Reservation & { clean: boolean }) | number {
    const attempt = this.throttle.reserve(user, ip);
    if ("waitMs" in attempt) return attempt.waitMs;
    const clean = this.addresses.clean(ip);
    const wait = this.addresses.take(ip);
    if (wait === 0) return { ...attempt, clean };
    attempt.cancel();
    attempt.done();
    return wait;
  }

  private async logout(req: IncomingMessage, res: ServerResponse, officer: Officer | null): Promise<void> {
    const token = cookie(req, SESSION_COOKIE);
    if (token) await this.accounts.closeSession(token);
    if (officer) this.log.info({ user: officer.id }, "officer logged out");
    sendJson(res, 200, { ok: true }, { "set-cookie": this.cookieLine(req, "", 0) });
  }

  private cookieLine(req: IncomingMessage, value: string, maxAgeS: number): string {
    const attrs = [`${SESSION_COOKIE}=${value}`, "Path=/", "HttpOnly", "SameSite=Strict", `Max-Age=${maxAgeS}`];
    if (isTls(req)) attrs.push("Secure");
    return attrs.join("; ");
  }
}
