import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./child.js";

/** The newest modification time of a source file of the pillar's bundle. */
function newestSource(): number {
  let newest = statSync(join(ROOT, "package.json")).mtimeMs;
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else newest = Math.max(newest, statSync(p).mtimeMs);
    }
  };
  for (const d of ["src", "hal", "config"]) walk(join(ROOT, d));
  return newest;
}

/**
 * Once per vitest run, before any test file: the production bundle (dist/pillar.mjs) is built
 * when it is missing or older than a source file. The CLI's tests run it (`Child.cli`): the
 * installed program, and a start without tsx's compile for each of the many short CLI runs.
 */
export default function freshBundle(): void {
  const entry = join(ROOT, "dist/pillar.mjs");
  if (existsSync(entry) && statSync(entry).mtimeMs >= newestSource()) return;
  execFileSync("npm", ["run", "build"], { cwd: ROOT, stdio: "inherit", timeout: 120_000 });
}
