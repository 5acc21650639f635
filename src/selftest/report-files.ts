import { mkdir, readdir, unlink } from "node:fs/promises";
import { join } from "node:path";
import { atomicWriteFile } from "../fsutil/atomic-write.js";
import type { SelftestReport } from "./report.js";

/** Reports kept in `dataDir/selftest/reports` (older ones are deleted). */
export const KEEP_REPORTS = 20;

const esc = (s: unknown) =>
  String(s ?? "").replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!,
  );

/** The report as one self-contained page (the snapshot embedded), for the installer's laptop or phone. */
export function reportHtml(r: SelftestReport, jpeg?: Buffer): string {
  const color = { pass: "#1b7f3b", fail: "#b3261e", skip: "#6b6b6b" } as const;
  const rows = r.checks
    .map(
      (c) =>
        `<tr><td style="color:${color[c.status]};font-weight:bold">${c.status.toUpperCase()}</td><td>${esc(c.title)}${c.required ? "" : " <small>(optional)</small>"}</td>` +
        `<td>${esc(c.value ?? "")} ${esc(c.unit ?? "")}</td><td>${esc(c.detail)}</td><td>${c.ms} ms</td></tr>`,
    )
    .join("\n");
  const img = jpeg
    ? `<h2>Camera</h2><img alt="camera snapshot" src="data:image/jpeg;base64,${jpeg.toString("base64")}">`
    : "";
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>Self-test ${esc(r.pillarId)} ${esc(r.startedAt)}</title>
<style>body{font-family:sans-serif;margin:1.5em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left;vertical-align:top}img{max-width:100%}</style>
</head><body>
<h1>Pillar ${esc(r.pillarId)}: ${r.ok ? "PASSED" : "FAILED"}</h1>
<p>${esc(r.startedAt)} · ${r.durationMs} ms · software ${esc(r.version)} · ${r.interactive ? "interactive" : "non-interactive"} (${esc(r.trigger)}) ·
${r.summary.pass} passed, ${r.summary.fail} failed, ${r.summary.skip} skipped${r.failed.length ? ` · required checks failed: ${esc(r.failed.join(", "))}` : ""}</p>
<table><tr><th>result</th><th>check</th><th>value</th><th>detail</th><th>time</th></tr>
${rows}
</table>
${img}
</body></html>
`;
}

/** Save the report as JSON and HTML (and the snapshot as JPEG); returns the paths; prunes old ones. */
export async function saveReport(
  dataDir: string,
  r: SelftestReport,
  jpeg?: Buffer,
): Promise<NonNullable<SelftestReport["files"]>> {
  const dir = join(dataDir, "selftest", "reports");
  await mkdir(dir, { recursive: true });
  const stem = join(dir, r.startedAt.replace(/[:.]/g, "-"));
  const files = { json: `${stem}.json`, html: `${stem}.html`, ...(jpeg ? { jpeg: `${stem}.jpg` } : {}) };
  if (jpeg) await atomicWriteFile(files.jpeg!, jpeg);
  await atomicWriteFile(files.html, reportHtml(r, jpeg));
  await atomicWriteFile(files.json, JSON.stringify({ ...r, files }, null, 2));
  const stems = [...new Set((await readdir(dir)).map((f) => f.replace(/\.(json|html|jpg)$/, "")))].sort();
  for (const old of stems.slice(0, Math.max(0, stems.length - KEEP_REPORTS)))
    for (const ext of [".json", ".html", ".jpg"]) await unlink(join(dir, old + ext)).catch(() => undefined);
  return files;
}
