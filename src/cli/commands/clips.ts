import { createReadStream, createWriteStream } from "node:fs";
import { open, rename, unlink } from "node:fs/promises";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { loadConfigFile } from "../../config/load-config.js";
import { scanClip, sha256File } from "../../recording/clip-file.js";
import { type ClipEntry, readIndex } from "../../recording/clip-store.js";
import { parseCliArgs, portArg } from "../args.js";
import { type CliCommand, UsageError } from "../cli-command.js";
import { DEFAULT_CONTROL_PORT, locatePillar } from "./find-pillar.js";
import { DEFAULT_CONFIG } from "./run-config.js";

/**
 * The recordings folder: `--dir`; else the running pillar's data folder (it says where on its
 * control port); else the config's (`--config`, default $PILLAR_CONFIG or /etc/alarm-pillar/config.json).
 * Only read: clips never opens the journal nor a device, so it needs no lock.
 */
async function clipsDir(v: { config?: string; dir?: string; "control-port"?: string }): Promise<string> {
  if (v.dir) return v.dir;
  const found = await locatePillar({ config: v.config, controlPort: portArg(v["control-port"], "--control-port") });
  const dataDir = found.running?.dataDir ?? (await loadConfigFile(found.configPath)).dataDir;
  return join(dataDir, "recordings");
}

function row(e: ClipEntry): string {
  const dur = e.end ? `${Math.round((Date.parse(e.end) - Date.parse(e.start)) / 1000)} s` : "…";
  const flags = [e.state, e.confirmed ? "confirmed" : e.kind === "incident" ? "protected" : ""].filter(Boolean);
  return [
    e.id,
    e.kind.padEnd(10),
    e.start,
    dur.padStart(6),
    `${(e.bytes / 1e6).toFixed(1)} MB`.padStart(9),
    e.incidentId ?? "-",
    flags.join(","),
  ].join("  ");
}

/** Copy the playable part of a clip (all of it once complete) to `out` through a temp file. */
async function exportClip(dir: string, e: ClipEntry, out: string): Promise<{ bytes: number; sha256: string }> {
  const src = join(dir, e.file);
  const { bytes } = await scanClip(src);
  if (bytes === 0) throw new Error(`clip ${e.id} has no complete fragment yet`);
  const tmp = `${out}.${process.pid}.tmp`;
  try {
    await pipeline(createReadStream(src, { start: 0, end: bytes - 1 }), createWriteStream(tmp, { flags: "wx" }));
    const fh = await open(tmp, "r+");
    await fh.sync();
    await fh.close();
    const sha256 = await sha256File(tmp);
    if (e.state !== "recording" && e.sha256 && sha256 !== e.sha256)
      throw new Error(`clip ${e.id}: sha256 ${sha256} differs from the index's ${e.sha256} (damaged file?)`);
    await rename(tmp, out);
    return { bytes, sha256 };
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
}

export const command: CliCommand = {
  name: "clips",
  summary: "list the pillar's recorded clips or export one as an MP4",
  usage:
    "pillar clips list [--config FILE | --dir DIR] [--control-port N] [--json]\n" +
    "pillar clips export ID --out FILE [--config FILE | --dir DIR] [--control-port N]\n" +
    "  list                 one line per clip: id, kind, start, length, size, incident, state\n" +
    "  export ID            copy clip ID to --out (sha256 checked against the index; a clip still\n" +
    "                       being recorded up to its last fragment)\n" +
    "  --out FILE           where export writes the MP4 (required for export)\n" +
    "  --dir DIR            the recordings folder itself (default: <dataDir>/recordings)\n" +
    "  --config FILE        the pillar's config, for its dataDir (default: asked of the running pillar,\n" +
    `                       else ${DEFAULT_CONFIG}, env PILLAR_CONFIG)\n` +
    `  --control-port N     where the running pillar is asked (default: ${DEFAULT_CONTROL_PORT})\n` +
    "  --json               list: the index entries as JSON (default: one line each)",
  async run(argv) {
    const [sub, ...rest] = argv;
    const { values, positionals } = parseCliArgs(rest, {
      config: { type: "string" },
      dir: { type: "string" },
      out: { type: "string" },
      json: { type: "boolean" },
      "control-port": { type: "string" },
    });
    if (sub !== "list" && sub !== "export") throw new UsageError(`unknown subcommand "${sub ?? ""}" (list or export)`);
    const id = positionals[0];
    if (sub === "export" && !id) throw new UsageError("export: the clip ID is required (see pillar clips list)");
    if (sub === "export" && !values.out) throw new UsageError("export: --out FILE is required");
    const dir = await clipsDir(values);
    const clips = await readIndex(join(dir, "index.json"));
    if (sub === "list") {
      if (values.json) console.log(JSON.stringify(clips, null, 2));
      else if (clips.length === 0) console.log(`no clips in ${dir}`);
      else for (const e of clips) console.log(row(e));
      return 0;
    }
    const e = clips.find((c) => c.id === id);
    if (!e) {
      console.error(`no clip ${id} in ${dir}`);
      return 1;
    }
    const r = await exportClip(dir, e, values.out!);
    console.log(
      `${values.out}: ${r.bytes} bytes, sha256 ${r.sha256}${e.state === "recording" ? " (still recording: up to its last fragment)" : ""}`,
    );
    return 0;
  },
};
