import { mkdir, readdir, readFile, stat, unlink } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "pino";
import { atomicWriteFile } from "../fsutil/atomic-write.js";
import { type ClipWriterOptions, repairClip, sha256File } from "./clip-file.js";

export type ClipKind = "incident" | "continuous";
export type ClipState = "recording" | "complete" | "repaired";

/** One recording in the index (`<dataDir>/recordings/index.json`). */
export interface ClipEntry {
  id: string;
  kind: ClipKind;
  incidentId: string | null;
  file: string;
  /** ISO times of the first and last sample (end null while recording). */
  start: string;
  end: string | null;
  pressAt: string | null;
  bytes: number;
  sha256: string | null;
  state: ClipState;
  /** The center has the clip (clips.confirm): retention and disk pressure may delete it. */
  confirmed: boolean;
}

const INDEX_MAX_BYTES = 16 * 1024 * 1024;
export const CLIP_ID_PATTERN = "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$";

/** Whether disk pressure or retention may delete this clip. */
export function deletable(e: ClipEntry): boolean {
  return e.state !== "recording" && (e.kind === "continuous" || e.confirmed);
}

/**
 * The clip files and their index. The index is rewritten atomically (temp, fsync, rename) on
 * every change, and every change is ordered so a kill at any moment leaves it consistent: an
 * entry is written (state `recording`) before its file is created, a file is deleted before its
 * entry. `open()` repairs what a kill left: `recording` entries are cut to their last complete
 * fragment (or discarded if none), entries without a file are dropped, files without an entry
 * are removed.
 */
export class ClipStore {
  private entries = new Map<string, ClipEntry>();
  private chain: Promise<void> = Promise.resolve();
  /** Bytes of clips being written, by id (not yet in their entries). */
  private readonly live = new Map<string, () => number>();

  constructor(
    readonly dir: string,
    private readonly log: Logger,
    /** How clip files are opened and how far a slow card may fall behind (tests slow the disk). */
    readonly writerOptions: ClipWriterOptions = {},
  ) {}

  private get indexPath(): string {
    return join(this.dir, "index.json");
  }

  pathOf(e: ClipEntry): string {
    return join(this.dir, e.file);
  }

  /** Load the index and repair what a kill or a power cut left. */
  async open(): Promise<{ repaired: string[]; discarded: string[] }> {
    await mkdir(this.dir, { recursive: true });
    this.entries = new Map((await readIndex(this.indexPath, this.log)).map((e) => [e.id, e]));
    const repaired: string[] = [];
    const discarded: string[] = [];
    for (const e of [...this.entries.values()]) {
      const path = this.pathOf(e);
      const exists = await stat(path).then(
        () => true,
        () => false,
      );
      if (!exists) {
        if (e.state !== "recording") this.log.warn({ clip: e.id }, "clip file missing: dropped from the index");
        this.entries.delete(e.id);
        continue;
      }
      if (e.state !== "recording") continue;
      const scan = await repairClip(path);
      if (scan.fragments === 0) {
        await unlink(path).catch(() => undefined);
        this.entries.delete(e.id);
        discarded.push(e.id);
        continue;
      }
      const end = new Date(Date.parse(e.start) + scan.durationS * 1000).toISOString();
      this.entries.set(e.id, { ...e, state: "repaired", end, bytes: scan.bytes, sha256: await sha256File(path) });
      repaired.push(e.id);
    }
    const known = new Set([...this.entries.values()].map((e) => e.file));
    for (const f of await readdir(this.dir)) {
      if (f.endsWith(".mp4") && !known.has(f)) await this.adopt(f, repaired, discarded);
    }
    await this.save();
    if (repaired.length || discarded.length) this.log.warn({ repaired, discarded }, "unfinished clips after a restart");
    return { repaired, discarded };
  }

  /**
   * A clip file the index does not know (an index lost or damaged): never thrown away unseen;
   * kept as a protected incident clip, repaired, so the center can still fetch it.
   */
  private async adopt(file: string, repaired: string[], discarded: string[]): Promise<void> {
    const path = join(this.dir, file);
    const id = file.slice(0, -4);
    const scan = await repairClip(path);
    if (scan.fragments === 0 || !new RegExp(CLIP_ID_PATTERN).test(id)) {
      await unlink(path).catch(() => undefined);
      discarded.push(id);
      return;
    }
    const mtime = (await stat(path)).mtimeMs;
    this.entries.set(id, {
      id,
      kind: "incident",
      incidentId: null,
      file,
      start: new Date(mtime - scan.durationS * 1000).toISOString(),
      end: new Date(mtime).toISOString(),
      pressAt: null,
      bytes: scan.bytes,
      sha256: await sha256File(path),
      state: "repaired",
      confirmed: false,
    });
    repaired.push(id);
  }

  list(): ClipEntry[] {
    return [...this.entries.values()].sort((a, b) => a.start.localeCompare(b.start));
  }

  get(id: string): ClipEntry | undefined {
    return this.entries.get(id);
  }

  /** Bytes on disk: finished clips plus the ones being written. */
  usage(): number {
    let n = 0;
    for (const e of this.entries.values()) n += this.live.get(e.id)?.() ?? e.bytes;
    return n;
  }

  /** Add an entry in state `recording` (before its file exists). `bytes` reports its size while written. */
  async begin(e: ClipEntry, bytes: () => number): Promise<void> {
    this.entries.set(e.id, e);
    this.live.set(e.id, bytes);
    await this.save();
  }

  /** A clip's file is complete. */
  async finish(id: string, fields: Pick<ClipEntry, "end" | "bytes" | "sha256">): Promise<ClipEntry | undefined> {
    this.live.delete(id);
    const e = this.entries.get(id);
    if (!e) return undefined;
    const next: ClipEntry = { ...e, ...fields, state: "complete" };
    this.entries.set(id, next);
    await this.save();
    return next;
  }

  async update(
    id: string,
    fields: Partial<Pick<ClipEntry, "confirmed" | "incidentId" | "pressAt">>,
  ): Promise<ClipEntry | undefined> {
    const e = this.entries.get(id);
    if (!e) return undefined;
    const next = { ...e, ...fields };
    this.entries.set(id, next);
    await this.save();
    return next;
  }

  /** Delete a clip: the file first, then its entry (a kill in between leaves an entry the next open drops). */
  async remove(id: string): Promise<boolean> {
    const e = this.entries.get(id);
    if (!e) return false;
    await unlink(this.pathOf(e)).catch(() => undefined);
    this.entries.delete(id);
    this.live.delete(id);
    await this.save();
    return true;
  }

  private save(): Promise<void> {
    const doc = JSON.stringify({ v: 1, clips: this.list() }, null, 1);
    this.chain = this.chain.catch(() => undefined).then(() => atomicWriteFile(this.indexPath, doc));
    return this.chain;
  }
}

/** The index as stored; a missing file is an empty index, an unreadable one is logged and rebuilt empty. */
export async function readIndex(path: string, log?: Logger): Promise<ClipEntry[]> {
  let raw: string;
  try {
    const s = await stat(path);
    if (s.size > INDEX_MAX_BYTES) throw new Error(`index larger than ${INDEX_MAX_BYTES} bytes`);
    raw = await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT")
      log?.error({ err: (err as Error).message }, "clip index unreadable");
    return [];
  }
  try {
    const doc = JSON.parse(raw) as { clips?: unknown };
    if (!Array.isArray(doc.clips)) throw new Error("clips: not an array");
    return doc.clips.filter(
      (c): c is ClipEntry => typeof c === "object" && c !== null && typeof (c as ClipEntry).id === "string",
    );
  } catch (err) {
    log?.error({ err: (err as Error).message }, "clip index unreadable");
    return [];
  }
}
