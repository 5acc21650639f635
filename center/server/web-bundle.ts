import { readFile } from "node:fs/promises";
import { basename } from "node:path";
import { fileURLToPath } from "node:url";

const WEB = fileURLToPath(new URL("../web/", import.meta.url));

/** A file the console serves: its content type and bytes. */
export interface WebFile {
  type: string;
  body: Buffer;
}

let built: Promise<Map<string, WebFile>> | undefined;

/**
 * The officer's page: center/web/src/main.tsx (TypeScript + Preact + Leaflet) bundled by esbuild
 * in memory when the console starts (once per process), with its CSS, and the static
 * center/web/public/index.html. Nothing is written to disk, so a fresh clone's `npm test` and
 * `npm start` always serve the page built from the sources they run.
 */
export function webBundle(): Promise<Map<string, WebFile>> {
  built ??= buildPage().catch((err: Error) => {
    built = undefined;
    throw err;
  });
  return built;
}

async function buildPage(): Promise<Map<string, WebFile>> {
  const { build } = await import("esbuild");
  const result = await build({
    entryPoints: { console: `${WEB}src/main.tsx` },
    bundle: true,
    format: "esm",
    target: "es2022",
    platform: "browser",
    jsx: "automatic",
    jsxImportSource: "preact",
    loader: { ".png": "dataurl", ".svg": "dataurl" },
    minify: true,
    outdir: "/console-out",
    write: false,
    logLevel: "silent",
    legalComments: "none",
  });
  const files = new Map<string, WebFile>();
  for (const f of result.outputFiles) {
    const name = basename(f.path);
    const type = name.endsWith(".css") ? "text/css; charset=utf-8" : "text/javascript; charset=utf-8";
    files.set(`/${name}`, { type, body: Buffer.from(f.contents) });
  }
  const html = await readFile(`${WEB}public/index.html`);
  files.set("/", { type: "text/html; charset=utf-8", body: html });
  files.set("/index.html", { type: "text/html; charset=utf-8", body: html });
  return files;
}
