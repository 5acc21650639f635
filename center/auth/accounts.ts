import { createHash, randomBytes } from "node:crypto";
import type { SqlDb } from "../log/sql-db.js";
import { DUMMY_HASH, hashPassword, passwordProblem, verifyPassword } from "./password.js";

export type Role = "officer" | "supervisor";
export const ROLES: readonly Role[] = ["officer", "supervisor"];

export interface Account {
  name: string;
  role: Role;
}

export class AccountError extends Error {}

const NAME = /^[\p{L}\p{N}][\p{L}\p{N}._-]{0,63}$/u;
const tokenHash = (token: string) => createHash("sha256").update(token).digest("base64url");

/**
 * Officer accounts and login sessions in the center's database (tables `users`, `sessions`;
 * center/log/migrations.ts). Passwords are scrypt-hashed with a salt each; a session is a
 * random 256-bit token of which only the SHA-256 is stored, so a copy of the database opens no
 * session. Sessions live in the database so they survive a console restart and work on every
 * console server of a center.
 */
export class AccountStore {
  constructor(
    private readonly db: SqlDb,
    /** How long a session lasts (default 12 h: one shift). */
    private readonly sessionMs = 12 * 3600_000,
  ) {}

  async add(name: string, role: Role, password: string): Promise<void> {
    this.check(name, role, password);
    const now = new Date().toISOString();
    const added = await this.db.run(
      "INSERT INTO users (name, role, password_hash, created_at, updated_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING",
      [name, role, await hashPassword(password), now, now],
    );
    if (!added) throw new AccountError(`user "${name}" already exists (use passwd to change the password)`);
  }

  /** Sets a new password (and role, when given) and ends the user's sessions. */
  async passwd(name: string, password: string, role?: Role): Promise<void> {
    this.check(name, role ?? "officer", password);
    const hash = await hashPassword(password);
    const now = new Date().toISOString();
    const changed = await this.db.tx(async (t) => {
      const n = await t.run(
        `UPDATE users SET password_hash = ?, updated_at = ?${role ? ", role = ?" : ""} WHERE name = ?`,
        role ? [hash, now, role, name] : [hash, now, name],
      );
      await t.run("DELETE FROM sessions WHERE user_name = ?", [name]);
      return n;
    });
    if (!changed) throw new AccountError(`no user "${name}"`);
  }

  async remove(name: string): Promise<void> {
    const removed = await this.db.tx(async (t) => {
      await t.run("DELETE FROM sessions WHERE user_name = ?", [name]);
      return t.run("DELETE FROM users WHERE name = ?", [name]);
    });
    if (!removed) throw new AccountError(`no user "${name}"`);
  }

  async list(): Promise<Account[]> {
    return this.db.all<Account>("SELECT name, role FROM users ORDER BY name");
  }

  /** The account when the password is right, else null (same work whether the user exists or not). */
  async verify(name: string, password: string): Promise<Account | null> {
    const [row] = await this.db.all<Account & { password_hash: string }>(
      "SELECT name, role, password_hash FROM users WHERE name = ?",
      [name],
    );
    const ok = await verifyPassword(password, row?.password_hash ?? DUMMY_HASH);
    return ok && row ? { name: row.name, role: row.role } : null;
  }

  /** A new session for the account; the token goes into the cookie only. */
  async openSession(account: Account): Promise<string> {
    const token = randomBytes(32).toString("base64url");
    const now = Date.now();
    await this.db.run("DELETE FROM sessions WHERE expires_at < ?", [new Date(now).toISOString()]);
    await this.db.run("INSERT INTO sessions (token_hash, user_name, created_at, expires_at) VALUES (?, ?, ?, ?)", [
      tokenHash(token),
      account.name,
      new Date(now).toISOString(),
      new Date(now + this.sessionMs).toISOString(),
    ]);
    return token;
  }

  /** The account behind a session token, or null when it is unknown or expired. */
  async session(token: string): Promise<Account | null> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return null;
    const [row] = await this.db.all<Account>(
      "SELECT u.name AS name, u.role AS role FROM sessions s JOIN users u ON u.name = s.user_name WHERE s.token_hash = ? AND s.expires_at > ?",
      [tokenHash(token), new Date().toISOString()],
    );
    return row ?? null;
  }

  async closeSession(token: string): Promise<void> {
    await this.db.run("DELETE FROM sessions WHERE token_hash = ?", [tokenHash(token)]);
  }

  private check(name: string, role: Role, password: string): void {
    if (!NAME.test(name))
      throw new AccountError(
        `user name "${name}": letters, digits, . _ - only, at most 64, starting with a letter or digit`,
      );
    if (!ROLES.includes(role)) throw new AccountError(`role must be one of ${ROLES.join(", ")}, got "${role}"`);
    const problem = passwordProblem(password);
    if (problem) throw new AccountError(problem);
  }
}
