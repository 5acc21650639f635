import { spawn, type ChildProcess, type SpawnOptions } from "node:child_process";
import { existsSync } from "node:fs";
import { settleWithin } from "./deadline.js";

/**
 * Helper processes (encoders, decoders, captures, frame grabs) that die with the pillar and are
 * stopped in bounded time. Apart from the supervised RTP pipeline (camera-process.ts) because the
 * speaker, the self-test and the snapshot spawn their one-shot helpers the same way.
 */

const SETPRIV = "/usr/bin/setpriv";
const hasSetpriv = existsSync(SETPRIV);
/** After SIGTERM, SIGKILL follows after this; after twice this the wait gives up (logged). */
const KILL_AFTER_MS = 1500;

/**
 * Spawn a helper process that dies with the pillar: through util-linux `setpriv --pdeathsig
 * KILL` (it execs the command, so the pid is the command's), the kernel kills it when the
 * pillar process dies, even by SIGKILL or a crash — no orphaned encoder keeps the camera busy.
 */
export function spawnTied(cmd: string, args: readonly string[], o: SpawnOptions): ChildProcess {
  return hasSetpriv ? spawn(SETPRIV, ["--pdeathsig", "KILL", "--", cmd, ...args], o) : spawn(cmd, [...args], o);
}

/**
 * SIGTERM, then SIGKILL after 1.5 s; resolves once the process is gone, or after a final
 * deadline (a process that never started has no exit to wait for).
 */
export function stopChild(c: ChildProcess): Promise<void> {
  if (c.exitCode !== null || c.signalCode !== null || c.pid === undefined) return Promise.resolve();
  const gone = new Promise<void>((resolve) => {
    const t = setTimeout(() => c.kill("SIGKILL"), KILL_AFTER_MS);
    const done = () => {
      clearTimeout(t);
      resolve();
    };
    c.once("exit", done);
    c.once("error", done);
    c.kill("SIGTERM");
  });
  return settleWithin(gone, KILL_AFTER_MS * 3, undefined);
}
