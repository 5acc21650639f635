import { type ChildProcess, spawn } from "node:child_process";
import { build } from "esbuild";
import { afterEach, describe, expect, it } from "vitest";
import { stopChild } from "../support/processes.js";
import { waitFor } from "../support/wait.js";

/** The center's dependencies: a pillar must never load them. */
const CENTER_ONLY = ["preact", "leaflet", "better-sqlite3", "pg", "playwright-core"];

describe("the center is its own program", () => {
  const children: ChildProcess[] = [];
  afterEach(async () => {
    for (const c of children.splice(0)) await stopChild(c, { signal: "SIGKILL" });
  });

  it("the pillar's bundle (npm run build's entry) contains no center/ file and imports none of its dependencies", async () => {
    const result = await build({
      entryPoints: ["src/cli/main.ts"],
      bundle: true,
      splitting: true,
      platform: "node",
      format: "esm",
      packages: "external",
      target: "node20",
      outdir: "/nonexistent-out",
      write: false,
      metafile: true,
      logLevel: "silent",
    });
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.some((f) => f.startsWith("src/cli/"))).toBe(true);
    expect(inputs.filter((f) => f.startsWith("center/"))).toEqual([]);
    const imported = Object.values(result.metafile.outputs).flatMap((o) => o.imports.map((i) => i.path));
    for (const dep of CENTER_ONLY) expect(imported.filter((p) => p === dep || p.startsWith(`${dep}/`))).toEqual([]);
  });

  it("`pillar console` runs the center's own entry point and serves the page", async () => {
    const child = spawn(
      process.execPath,
      ["bin/pillar.mjs", "console", "--port", "0", "--broker", "mqtt://127.0.0.1:1"],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    children.push(child);
    let err = "";
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    const url = await waitFor(() => /operator console: (\S+)/.exec(err)?.[1], "the console's URL", 30_000);
    const config = (await (await fetch(new URL("/api/config", url))).json()) as Record<string, unknown>;
    expect(config.timeZone).toBe("Asia/Almaty");
    const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
  });
});
