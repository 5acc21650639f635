import { randomBytes } from "node:crypto";
import { mkdir, open, readFile, statfs, unlink } from "node:fs/promises";
import { join } from "node:path";
import { decodeJournal } from "../../outbox/journal-codec.js";
import { type Check, fail, pass, round } from "../check.js";

/** The journal is read whole to check it: larger ones are only stat'ed (it is bounded by outbox.maxBytes anyway). */
const MAX_JOURNAL_READ = 256 * 1024 * 1024;

/** Write + fsync + read back a file in the data folder: the disk takes and returns data. */
export const storageWriteCheck: Check = {
  id: "storage.write",
  component: "storage",
  title: "storage: write, fsync, read back",
  required: true,
  async run(ctx) {
    const dir = join(ctx.dataDir, "selftest");
    const path = join(dir, `.probe-${process.pid}`);
    const data = randomBytes(64 * 1024);
    const t = performance.now();
    try {
      await mkdir(dir, { recursive: true });
      const fh = await open(path, "w");
      try {
        await fh.writeFile(data);
        await fh.sync();
      } finally {
        await fh.close();
      }
      const back = await readFile(path);
      if (!back.equals(data)) return fail(`${path}: what was read back differs from what was written`);
      const ms = round(performance.now() - t);
      return pass(`64 KiB written, fsync'd and read back in ${ms} ms`, ms, "ms");
    } catch (err) {
      return fail(`cannot write the data folder ${ctx.dataDir}: ${(err as Error).message}`);
    } finally {
      await unlink(path).catch(() => undefined);
    }
  },
};

export const storageFreeCheck: Check = {
  id: "storage.free",
  component: "storage",
  title: "storage: free space",
  required: true,
  async run(ctx) {
    try {
      const s = await statfs(ctx.dataDir);
      const mb = round((s.bavail * s.bsize) / 1048576, 0);
      const min = ctx.config.selftest.minFreeMb;
      return mb < min
        ? fail(`only ${mb} MB free in ${ctx.dataDir} (< ${min} MB): the journal and recordings need room`, mb, "MB")
        : pass(`${mb} MB free`, mb, "MB");
    } catch (err) {
      return fail(`cannot read the free space of ${ctx.dataDir}: ${(err as Error).message}`);
    }
  },
};

/** The journal's bytes, its size when too large to read whole, or undefined when there is none. */
async function readJournal(path: string): Promise<Buffer | number | undefined> {
  let fh: Awaited<ReturnType<typeof open>>;
  try {
    fh = await open(path, "r");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
  try {
    const { size } = await fh.stat();
    return size > MAX_JOURNAL_READ ? size : await fh.readFile();
  } finally {
    await fh.close();
  }
}

/** The outbox journal reads back and decodes (damaged bytes are reported, not repaired here). */
export const journalCheck: Check = {
  id: "storage.journal",
  component: "storage",
  title: "storage: journal readable",
  required: true,
  async run(ctx) {
    const path = join(ctx.dataDir, "outbox.journal");
    const prefix = `pillar/v1/${ctx.config.pillar.id}/`;
    const decode = (buf: Buffer) => decodeJournal(buf, { topicPrefix: prefix });
    const isDamaged = (d: ReturnType<typeof decode>) => d.damagedBytes > 0 || d.invalidRecords > 0;
    let read: Awaited<ReturnType<typeof readJournal>>;
    let d: ReturnType<typeof decode> | undefined;
    try {
      read = await readJournal(path);
      d = Buffer.isBuffer(read) ? decode(read) : undefined;
      // the outbox may be appending right now (a record half written): damage must still be there a moment later
      if (d && isDamaged(d)) {
        await new Promise((r) => setTimeout(r, 300));
        read = await readJournal(path);
        d = Buffer.isBuffer(read) ? decode(read) : undefined;
      }
    } catch (err) {
      return fail(`cannot read the journal ${path}: ${(err as Error).message}`);
    }
    if (read === undefined) return pass("no journal yet (nothing sent so far)", 0, "records");
    if (typeof read === "number" || !d)
      return pass(`${read} bytes (too large to read whole here)`, Number(read), "bytes");
    const buf = read;
    const data = { bytes: buf.length, damagedBytes: d.damagedBytes, invalidRecords: d.invalidRecords };
    if (isDamaged(d))
      return fail(
        `the journal has ${d.damagedBytes} damaged bytes and ${d.invalidRecords} invalid records`,
        d.records.length,
        "records",
        data,
      );
    return pass(`${d.records.length} records, ${buf.length} bytes, no damage`, d.records.length, "records", data);
  },
};
