import type { ChildProcess } from "node:child_process";
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { sleep, waitFor } from "./wait.js";

/** True while a process with this pid exists (and is not a zombie). */
export function pidAlive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

function signalPid(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // gone meanwhile
  }
}

/**
 * Stop a process by pid: `signal` (SIGTERM), then SIGKILL after `graceMs`; resolves once it is
 * gone. For a process this test did not spawn itself (a child's child); for our own children
 * use `stopChild`, which also reaps them.
 */
export async function stopPid(
  pid: number | undefined,
  signal: NodeJS.Signals = "SIGTERM",
  graceMs = 5000,
): Promise<void> {
  if (!pid || !pidAlive(pid)) return;
  signalPid(pid, signal);
  const until = Date.now() + graceMs;
  while (pidAlive(pid) && Date.now() < until) await sleep(25);
  if (pidAlive(pid)) {
    signalPid(pid, "SIGKILL");
    await waitFor(() => !pidAlive(pid), `pid ${pid} gone after SIGKILL`);
  }
}

/** True while a spawned child has not exited. */
export function running(proc: ChildProcess | undefined): proc is ChildProcess {
  return !!proc?.pid && proc.exitCode === null && proc.signalCode === null;
}

/**
 * Stop a child this test spawned, by its pid: `signal`, then SIGKILL after `graceMs`; resolves
 * on its exit. `group`: signal its whole process group (spawned with `detached: true`), so its
 * own children go too, and SIGKILL whatever is left of the group afterwards.
 */
export async function stopChild(
  proc: ChildProcess | undefined,
  o: { signal?: NodeJS.Signals; graceMs?: number; group?: boolean } = {},
): Promise<void> {
  if (!proc?.pid) return;
  const target = o.group ? -proc.pid : proc.pid;
  if (running(proc)) {
    const exited = new Promise<void>((r) => proc.once("exit", () => r()));
    signalPid(target, o.signal ?? "SIGTERM");
    const t = setTimeout(() => signalPid(target, "SIGKILL"), o.graceMs ?? 5000);
    await exited;
    clearTimeout(t);
  }
  if (o.group) signalPid(target, "SIGKILL");
}
/** Direct children of a process (from /proc), e.g. ffmpeg processes the pillar spawned. */
export function childPids(parent = process.pid): number[] {
  try {
    const kids = readFileSync(`/proc/${parent}/task/${parent}/children`, "utf8").trim();
    return kids ? kids.split(/\s+/).map(Number) : [];
  } catch {
    return [];
  }
}

/** The command name of a pid (`comm`), or undefined when it is gone. */
export function commOf(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/comm`, "utf8").trim();
  } catch {
    return undefined;
  }
}

/** Inodes of every UDP socket on the machine (/proc/net/udp and udp6). */
function udpInodes(): Set<string> {
  const inodes = new Set<string>();
  for (const f of ["/proc/net/udp", "/proc/net/udp6"]) {
    let text = "";
    try {
      text = readFileSync(f, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const inode = line.trim().split(/\s+/)[9];
      if (inode && inode !== "0") inodes.add(inode);
    }
  }
  return inodes;
}

/** UDP sockets a process holds open (its /proc/<pid>/fd links matched against /proc/net/udp). */
export function udpSocketCount(pid = process.pid): number {
  const udp = udpInodes();
  let n = 0;
  let fds: string[] = [];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return 0;
  }
  for (const fd of fds) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m && udp.has(m[1]!)) n++;
    } catch {
      // closed meanwhile
    }
  }
  return n;
}

/**
 * Live `comm` processes (e.g. ffmpeg) among the direct children of `parent`, counting those
 * still in the `setpriv` wrapper that is about to exec them (hal/camera-process.ts spawnTied).
 */
export function childrenNamed(comm: string, parent = process.pid): number[] {
  return childPids(parent).filter((p) => {
    const c = commOf(p);
    return (c === comm || c === "setpriv") && pidAlive(p);
  });
}
