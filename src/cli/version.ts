import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The project root: the nearest folder above this module with alarm-pillar's package.json (works from src/ and from the dist/ bundle). */
function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, "package.json");
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, "utf8")) as { name?: string }).name === "alarm-pillar")
      return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error("cannot find alarm-pillar's package.json");
    dir = up;
  }
}

export const PROJECT_ROOT = findRoot();

/** The software version, from package.json. */
export const SOFTWARE_VERSION: string = (
  JSON.parse(readFileSync(join(PROJECT_ROOT, "package.json"), "utf8")) as { version: string }
).version;
