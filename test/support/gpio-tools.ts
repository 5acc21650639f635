import { appendFileSync, chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pidAlive, stopPid } from "./processes.js";

/**
 * Stand-in libgpiod v2 tools (bash scripts) in a temp directory, for the GPIO driver without GPIO
 * hardware: `gpiodetect` lists a Pi 5's chips, `gpioget` reads `level-<offset>` (default 1),
 * `gpiomon` tails `events-<offset>` (lines in the driver's `%o %e %S` format), `gpioset` sleeps
 * while "holding" its line (`--toggle 0`: sets and exits). Every invocation is logged with its
 * pid. Pass `dir` as the driver's `toolDir`; `dispose()` kills what is left by pid.
 */
export class GpioTools {
  readonly dir = mkdtempSync(join(tmpdir(), "pillar-gpio-"));

  constructor() {
    const tool = (name: string, body: string) => {
      writeFileSync(join(this.dir, name), `#!/bin/bash\n${body}\n`);
      chmodSync(join(this.dir, name), 0o755);
    };
    const dir = this.dir;
    tool(
      "gpiodetect",
      `[ "$1" = --version ] && { echo "gpiodetect (libgpiod) v2.1.3"; exit 0; }
echo "gpiochip0 [gpio-brcmstb@107d508500] (32 lines)"
echo "gpiochip4 [pinctrl-rp1] (54 lines)"`,
    );
    tool(
      "gpioget",
      `off="\${@: -1}"; echo "$$ $*" >> "${dir}/gpioget.log"; cat "${dir}/level-$off" 2>/dev/null || echo 1`,
    );
    tool(
      "gpiomon",
      `off="\${@: -1}"; echo "$$ $*" >> "${dir}/gpiomon.log"; touch "${dir}/events-$off"
exec tail -n +1 -F "${dir}/events-$off" 2>/dev/null`,
    );
    tool("gpioset", `echo "$$ $*" >> "${dir}/gpioset.log"; [[ " $* " == *" --toggle 0 "* ]] && exit 0; exec sleep 600`);
  }

  /** Invocations of a tool: pid and argument string, oldest first. */
  calls(tool: "gpioget" | "gpiomon" | "gpioset"): { pid: number; args: string }[] {
    const f = join(this.dir, `${tool}.log`);
    if (!existsSync(f)) return [];
    return readFileSync(f, "utf8")
      .trim()
      .split("\n")
      .filter(Boolean)
      .map((l) => ({ pid: Number(l.slice(0, l.indexOf(" "))), args: l.slice(l.indexOf(" ") + 1) }));
  }

  /** The live gpioset holding `offset`, and the value it drives. */
  holder(offset: number): { pid: number; value: string } | undefined {
    const live = this.calls("gpioset").filter((c) => pidAlive(c.pid) && new RegExp(` ${offset}=[01]$`).test(c.args));
    if (live.length > 1) throw new Error(`${live.length} gpioset processes hold line ${offset}`);
    return live[0] && { pid: live[0].pid, value: live[0].args.slice(-1) };
  }

  /** The physical level `offset` was last set to (by a holder or a one-shot gpioset), if any. */
  lastSet(offset: number): boolean | undefined {
    const last = this.calls("gpioset")
      .filter((c) => new RegExp(` ${offset}=[01]$`).test(c.args))
      .at(-1);
    return last?.args.endsWith("=1");
  }

  /** The live gpiomon watching `offset`. */
  monitor(offset: number): number | undefined {
    return this.calls("gpiomon").find((c) => c.args.endsWith(` ${offset}`) && pidAlive(c.pid))?.pid;
  }

  /** The physical level gpioget reads on `offset` from now on. */
  setLevel(offset: number, high: boolean): void {
    writeFileSync(join(this.dir, `level-${offset}`), high ? "1\n" : "0\n");
  }

  /** A physical edge on `offset` as gpiomon reports it (1 rising, 2 falling) at `atMs`; sets the level too. */
  edge(offset: number, high: boolean, atMs = Date.now()): void {
    this.setLevel(offset, high);
    const sec = `${Math.floor(atMs / 1000)}.${String(atMs % 1000).padStart(3, "0")}000000`;
    appendFileSync(join(this.dir, `events-${offset}`), `${offset} ${high ? 1 : 2} ${sec}\n`);
  }

  /** Kill whatever tool process is left (by pid) and remove the directory. */
  async dispose(): Promise<void> {
    for (const c of [...this.calls("gpiomon"), ...this.calls("gpioset")]) await stopPid(c.pid, "SIGKILL");
    rmSync(this.dir, { recursive: true, force: true });
  }
}
