import { readFile } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "pino";
import type { CenterAuth, CenterRoutes, Officer } from "../server/center-hooks.js";
import type { Account, AccountStore } from "./accounts.js";
import { HttpError, cookie, isTls, readJson, sendJson } from "./http-util.js";
import { LoginThrottle } from "./login-throttle.js";

export const SESSION_COOKIE = "center_session";
const PAGE_DIR = new URL("./page/", import.meta.url);
const PAGES: Record<string, [string, string]> = {
  "/login": ["login.html", "text/html; charset=utf-8"],
  "/login.js": ["login.js", "text/javascript; charset=utf-8"],
};

const officerOf = (a: Account): Officer => ({ id: a.name, name: a.name, role: a.role });

/**
 * Officer login for the console: `POST /login` with JSON `{user, password}` sets the session
 * cookie (HttpOnly, SameSite=Strict, Secure over TLS); `POST /logout` ends it; `GET /api/me`
 * says who is logged in. Failed logins are slowed per user and client address (LoginThrottle):
 * while a wait is due, attempts are refused with 429 and `Retry-After`, the password unchecked.
 * The console server checks Origin and JSON on every state-changing request before this.
 */
export class SessionAuth implements CenterAuth, CenterRoutes {
  readonly loginPath = "/login";

  constructor(
    private readonly accounts: AccountStore,
    private readonly log: Logger,
    private readonly throttle = new LoginThrottle(),
  ) {}

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
    const page = PAGES[url.pathname];
    try {
      if (req.method === "GET" && page) {
        res.writeHead(200, { "content-type": page[1], "cache-control": "no-store" });
        res.end(await readFile(new URL(page[0], PAGE_DIR)));
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

  private async login(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const doc = await readJson(req, 4096);
    const user = typeof doc.user === "string" ? doc.user.trim() : "";
    const password = typeof doc.password === "string" ? doc.password : "";
    if (!user || !password || user.length > 64 || password.length > 256)
      throw new HttpError(400, "give user (at most 64 characters) and password (at most 256)");
    const ip = req.socket.remoteAddress ?? "?";
    const wait = this.throttle.waitMs(user, ip);
    if (wait > 0) {
      const s = Math.ceil(wait / 1000);
      this.log.warn({ user, ip, waitS: s }, "login refused: too many failed attempts");
      return sendJson(
        res,
        429,
        { error: `too many failed attempts: try again in ${s} s`, retryAfterS: s },
        {
          "retry-after": String(s),
        },
      );
    }
    const account = await this.accounts.verify(user, password);
    if (!account) {
      const next = this.throttle.failed(user, ip);
      this.log.warn({ user, ip, nextWaitMs: next }, "login failed");
      return sendJson(res, 401, {
        error: "wrong user name or password",
        ...(next > 0 ? { retryAfterS: Math.ceil(next / 1000) } : {}),
      });
    }
    this.throttle.succeeded(user, ip);
    const token = await this.accounts.openSession(account);
    this.log.info({ user: account.name, role: account.role, ip }, "officer logged in");
    sendJson(res, 200, officerOf(account), { "set-cookie": this.cookieLine(req, token, 12 * 3600) });
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
