import { basename, join } from "node:path";
import { ROOT } from "./child.js";

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
