import { readdirSync, readFileSync, readlinkSync } from "node:fs";

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

/** Stop a process by pid: SIGTERM, then SIGKILL after `graceMs`; resolves once it is gone. */
export async function stopPid(pid: number | undefined, graceMs = 2000): Promise<void> {
  if (!pid || !pidAlive(pid)) return;
  try {
    process.kill(pid, "SIGTERM");
  } catch {
    return;
  }
  const until = Date.now() + graceMs;
  while (pidAlive(pid) && Date.now() < until) await sleep(25);
  if (pidAlive(pid)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // gone meanwhile
    }
    while (pidAlive(pid)) await sleep(25);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Poll `fn` until it returns a truthy value; throws with `what` after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  fn: () => T | Promise<T>,
  timeoutMs = 15_000,
  everyMs = 50,
): Promise<NonNullable<T>> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
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

/** utime+stime of a process in clock ticks (for CPU ratios). */
export function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(f[11]) + Number(f[12]);
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
