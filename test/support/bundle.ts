import { execFile } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { basename, join } from "node:path";
import { promisify } from "node:util";
import { ROOT } from "./child.js";

const run = promisify(execFile);

/**
 * The production bundle (dist/pillar.mjs), built once: `npm test` builds it before vitest; a
 * file run alone builds it if it is missing. The build runs under an flock so two test files
 * never rebuild dist/ under each other.
 */
export async function ensureBundle(): Promise<string> {
  const entry = join(ROOT, "dist/pillar.mjs");
  if (existsSync(entry)) return entry;
  mkdirSync(join(ROOT, ".cache"), { recursive: true });
  await run("flock", [join(ROOT, ".cache/build.lock"), "sh", "-c", "[ -f dist/pillar.mjs ] || npm run build"], {
    cwd: ROOT,
    timeout: 120_000,
  });
  return entry;
}

const bundled = new Map<string, Promise<string>>();

/**
 * A test's helper script (TypeScript) bundled once per test process into one ESM file, so the
 * many short-lived children a crash test starts load in a fraction of tsx's start-up CPU. npm
 * packages stay external (the file lands in .cache/ inside the project, where they resolve).
 */
export function bundleScript(entry: string): Promise<string> {
  const abs = join(ROOT, entry);
  let out = bundled.get(abs);
  if (!out) {
    out = (async () => {
      const { build } = await import("esbuild");
      const file = join(ROOT, ".cache/test-scripts", `${basename(entry, ".ts")}-${process.pid}.mjs`);
      await build({
        entryPoints: [abs],
        outfile: file,
        bundle: true,
        platform: "node",
        format: "esm",
        packages: "external",
        target: "node20",
        logLevel: "warning",
      });
      return file;
    })();
    bundled.set(abs, out);
  }
  return out;
}
