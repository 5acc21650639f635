import { spawn } from "node:child_process";
import { closeSync, constants, ftruncateSync, fsyncSync, openSync, writeSync } from "node:fs";
import { mkdir, readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { Logger } from "pino";

/** The lock file in the data folder; it holds the holder's `LockHolder` as JSON. */
export const LOCK_FILE = "pillar.lock";
/** What flock(1) exits with when the folder is locked by another process. */
const CONFLICT = 75;
/** The holder's description is read from the lock file; anything bigger is not ours. */
const MAX_HOLDER_BYTES = 4096;

/** Who holds a data folder: written into the lock file, read by the process that is refused. */
export interface LockHolder {
  pid: number;
  /** ISO time the lock was taken. */
  since: string;
  /** What runs: "pillar run", "pillar run --sim (demo)", "pillar selftest". */
  what: string;
  /** The operator page of the demo, once it listens. */
  consoleUrl?: string;
  /** The control endpoint, once it listens. */
  controlPort?: number;
}

/** The data folder is locked by another process (one pillar per data folder). */
export class DataDirBusy extends Error {
  constructor(
    readonly dir: string,
    readonly holder: LockHolder | undefined,
  ) {
    const who = holder ? `pid ${holder.pid} (${holder.what}, since ${holder.since})` : "another process";
    super(`the data folder ${dir} is in use by ${who}: one pillar per data folder`);
  }
}

/** Each folder this process holds, by its resolved path (a second lock in the same process shares it). */
const held = new Map<string, { fd: number; refs: number; holder: LockHolder }>();

/**
 * An exclusive flock(2) on `<dataDir>/pillar.lock`, taken before anything in the folder is
 * opened. Node has no flock, so the file is opened here and util-linux `flock(1)` locks that
 * very open file (it inherits the descriptor as fd 3) and exits: the lock belongs to the open
 * file, which only this process keeps (Node opens files close-on-exec, so no child inherits it),
 * and the kernel releases it when this process ends in any way, SIGKILL and power cut included.
 * A stale file left by a dead pillar is therefore never a lock. No native module.
 */
export class DataDirLock {
  private key: string | undefined;

  constructor(private readonly o: { dir: string; what: string; log?: Logger }) {}

  get dir(): string {
    return this.o.dir;
  }

  /** What this process is, as the lock file tells a refused one. */
  get what(): string {
    return this.o.what;
  }

  /** Takes the lock or throws `DataDirBusy` at once (never waits). */
  async start(): Promise<void> {
    if (this.key) return;
    const key = resolve(this.o.dir, LOCK_FILE);
    const mine = held.get(key);
    if (mine) {
      mine.refs++;
      this.key = key;
      return;
    }
    await mkdir(this.o.dir, { recursive: true });
    const fd = openSync(key, constants.O_RDWR | constants.O_CREAT, 0o644);
    try {
      const code = await flockFd(fd);
      if (code === CONFLICT) throw new DataDirBusy(this.o.dir, alive(await readLockHolder(this.o.dir)));
      if (code !== 0) throw new Error(`flock ${key} failed (exit ${code})`);
    } catch (err) {
      closeSync(fd);
      throw err;
    }
    const holder: LockHolder = { pid: process.pid, since: new Date().toISOString(), what: this.o.what };
    held.set(key, { fd, refs: 1, holder });
    this.key = key;
    writeHolder(fd, holder);
    this.o.log?.info({ lock: key }, "data folder locked");
  }

  /** Adds to what the lock file says about this process (the demo's page, the control port). */
  describe(more: Partial<Omit<LockHolder, "pid" | "since">>): void {
    const h = this.key ? held.get(this.key) : undefined;
    if (!h) return;
    Object.assign(h.holder, more);
    writeHolder(h.fd, h.holder);
  }

  /** Releases the lock (the last holder in this process closes the file). */
  async stop(): Promise<void> {
    const key = this.key;
    this.key = undefined;
    const h = key ? held.get(key) : undefined;
    if (!key || !h || --h.refs > 0) return;
    held.delete(key);
    closeSync(h.fd);
    this.o.log?.info({ lock: key }, "data folder unlocked");
  }
}

/** Runs `flock -xn 3` on our open file; its exit code (0: locked, 75: someone else holds it). */
function flockFd(fd: number): Promise<number> {
  return new Promise((done, fail) => {
    const child = spawn("flock", ["--exclusive", "--nonblock", "--conflict-exit-code", String(CONFLICT), "3"], {
      stdio: ["ignore", "ignore", "pipe", fd],
    });
    let err = "";
    child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
    child.once("error", (e: NodeJS.ErrnoException) =>
      fail(e.code === "ENOENT" ? new Error("flock(1) is missing: install util-linux") : e),
    );
    child.once("exit", (code) =>
      code === 0 || code === CONFLICT ? done(code) : fail(new Error(err.trim() || `flock exited ${code}`)),
    );
  });
}

/** The lock file is rewritten in place: its inode must stay the locked one (no rename). */
function writeHolder(fd: number, h: LockHolder): void {
  const text = `${JSON.stringify(h)}\n`;
  ftruncateSync(fd, 0);
  writeSync(fd, text, 0);
  fsyncSync(fd);
}

/** Who holds (or last held) the folder, from its lock file; undefined when unreadable. */
export async function readLockHolder(dir: string): Promise<LockHolder | undefined> {
  try {
    const text = await readFile(join(dir, LOCK_FILE), "utf8");
    if (text.length > MAX_HOLDER_BYTES) return undefined;
    const v = JSON.parse(text) as Partial<LockHolder>;
    if (!Number.isInteger(v.pid) || typeof v.since !== "string" || typeof v.what !== "string") return undefined;
    return {
      pid: v.pid!,
      since: v.since,
      what: v.what,
      ...(typeof v.consoleUrl === "string" ? { consoleUrl: v.consoleUrl } : {}),
      ...(Number.isInteger(v.controlPort) ? { controlPort: v.controlPort } : {}),
    };
  } catch {
    return undefined;
  }
}

/**
 * The holder the file names, if that process lives: a holder that has just taken the lock may
 * not have written itself yet, and the file then still names the previous, dead one.
 */
function alive(h: LockHolder | undefined): LockHolder | undefined {
  if (!h) return undefined;
  try {
    process.kill(h.pid, 0);
    return h;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM" ? h : undefined;
  }
}
