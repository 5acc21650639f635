import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AccountError, AccountStore } from "../../center/auth/accounts.js";
import { LoginThrottle } from "../../center/auth/login-throttle.js";
import { hashPassword, verifyPassword } from "../../center/auth/password.js";
import { runUsersCli } from "../../center/auth/users-cli.js";
import { openSqlDb } from "../../center/log/sql-db.js";
import { SqlIncidentLog } from "../../center/log/sql-incident-log.js";

/** `pillar console users …` as an installer runs it (the real program, the password on stdin). */
function pillarUsers(args: string[], stdin = ""): Promise<{ code: number | null; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["bin/pillar.mjs", "console", "users", ...args], {
      stdio: ["pipe", "ignore", "pipe"],
    });
    let err = "";
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    child.stdin.end(stdin);
    child.once("exit", (code) => resolve({ code, err }));
  });
}

/** The same command in-process (the machine is slow to start programs). */
async function users(args: string[], stdin = ""): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await runUsersCli(args, {
    stdin: Readable.from([stdin]),
    out: (l) => (out += `${l}\n`),
    err: (l) => (err += `${l}\n`),
  });
  return { code, out, err };
}

describe("officer passwords", () => {
  it("are scrypt-hashed with a salt of their own and verified in constant time", async () => {
    const a = await hashPassword("correct horse");
    const b = await hashPassword("correct horse");
    expect(a).toMatch(/^scrypt\$32768\$8\$1\$[\w-]{22}\$[\w-]{43}$/);
    expect(a).not.toBe(b);
    expect(await verifyPassword("correct horse", a)).toBe(true);
    expect(await verifyPassword("correct hors", a)).toBe(false);
    expect(await verifyPassword("correct horse", "plain")).toBe(false);
  });
});

describe("login throttle", () => {
  it("lets the first failures through, then doubles the wait per user and address, and forgets on success", () => {
    let now = 1_000_000;
    const t = new LoginThrottle({ freeFailures: 3, baseMs: 1000, maxMs: 8000, maxEntries: 100 }, () => now);
    expect([1, 2, 3].map(() => t.failed("aigerim", "10.0.0.5"))).toEqual([0, 0, 0]);
    expect(t.failed("aigerim", "10.0.0.5")).toBe(1000);
    expect(t.waitMs("aigerim", "10.0.0.5")).toBe(1000);
    expect(t.waitMs("Aigerim", "10.0.0.5")).toBe(1000); // the name's case does not escape it
    expect(t.waitMs("aigerim", "10.0.0.6")).toBe(0); // another address is not blocked
    expect(t.waitMs("bolat", "10.0.0.5")).toBe(0); // another user neither
    now += 1000;
    expect(t.waitMs("aigerim", "10.0.0.5")).toBe(0);
    expect([t.failed("aigerim", "10.0.0.5"), t.failed("aigerim", "10.0.0.5"), t.failed("aigerim", "10.0.0.5")]).toEqual(
      [2000, 4000, 8000],
    );
    expect(t.failed("aigerim", "10.0.0.5")).toBe(8000); // capped
    t.succeeded("aigerim", "10.0.0.5");
    expect(t.waitMs("aigerim", "10.0.0.5")).toBe(0);
    expect(t.failed("aigerim", "10.0.0.5")).toBe(0);
  });

  it("keeps a bounded number of records", () => {
    const t = new LoginThrottle({ freeFailures: 0, baseMs: 1000, maxMs: 1000, maxEntries: 3 }, () => 0);
    for (const u of ["a", "b", "c", "d"]) t.failed(u, "ip");
    expect(t.waitMs("a", "ip")).toBe(0); // the oldest was dropped
    expect(t.waitMs("d", "ip")).toBe(1000);
  });
});

describe("accounts and sessions", () => {
  let dir = "";
  let db = "";
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "center-acc-"));
    db = join(dir, "center.db");
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("`pillar console users add|passwd|remove|list` manage the accounts in the center database", async () => {
    const added = await pillarUsers(["add", "aigerim", "--role", "supervisor", "--db", db], "s3cret-pass\n");
    expect(added).toMatchObject({ code: 0 });
    expect(added.err).toMatch(/added aigerim/);
    expect(await users(["add", "bolat", "--role", "officer", "--db", db], "bolat-pass-1\n")).toMatchObject({ code: 0 });
    const dup = await users(["add", "bolat", "--role", "officer", "--db", db], "other-pass-1\n");
    expect(dup.code).toBe(1);
    expect(dup.err).toMatch(/already exists/);
    const short = await users(["add", "dana", "--role", "officer", "--db", db], "short\n");
    expect(short.code).toBe(1);
    expect(short.err).toMatch(/at least 8/);
    expect((await users(["add", "erlan", "--role", "chief", "--db", db], "x")).err).toMatch(/--role must be one of/);
    expect((await users(["list", "--db", db])).out).toBe("aigerim\tsupervisor\nbolat\tofficer\n");

    const log = await SqlIncidentLog.open(await openSqlDb(db));
    const accounts = new AccountStore(log.db);
    expect(await accounts.verify("bolat", "bolat-pass-1")).toEqual({ name: "bolat", role: "officer" });
    expect(await accounts.verify("bolat", "wrong-pass")).toBeNull();
    expect(await accounts.verify("nobody", "bolat-pass-1")).toBeNull();
    const token = await accounts.openSession({ name: "bolat", role: "officer" });
    expect(await accounts.session(token)).toEqual({ name: "bolat", role: "officer" });
    // a forged token: the first character changed (always different, and it carries 6 whole bits)
    expect(await accounts.session(`${token[0] === "A" ? "B" : "A"}${token.slice(1)}`)).toBeNull();
    // The database keeps only the token's hash.
    const rows = await log.db.all<{ token_hash: string }>("SELECT token_hash FROM sessions");
    expect(rows.map((r) => r.token_hash)).not.toContain(token);

    // A new password ends the user's sessions; removing the user too.
    expect(await users(["passwd", "bolat", "--db", db], "bolat-pass-2\n")).toMatchObject({ code: 0 });
    expect(await accounts.session(token)).toBeNull();
    expect(await accounts.verify("bolat", "bolat-pass-2")).toEqual({ name: "bolat", role: "officer" });
    const t2 = await accounts.openSession({ name: "bolat", role: "officer" });
    expect(await users(["remove", "bolat", "--db", db])).toMatchObject({ code: 0 });
    expect(await accounts.session(t2)).toBeNull();
    expect(await accounts.verify("bolat", "bolat-pass-2")).toBeNull();
    await expect(accounts.remove("bolat")).rejects.toThrow(AccountError);
    await log.close();
  });
});
