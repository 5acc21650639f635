import { crc32 } from "node:zlib";

/** Message class: alarms are never dropped; telemetry is dropped first when the journal is full. */
export type MessageClass = "alarm" | "telemetry";

/** A message waiting in the journal for the broker's PUBACK. */
export interface JournalMessage {
  k: "m";
  seq: number;
  topic: string;
  cls: MessageClass;
  body: string;
}

export type JournalRecord =
  | JournalMessage
  /** Written first by a compaction: the next seq, so seq never goes back after one. */
  | { k: "h"; nextSeq: number }
  /** The broker acknowledged this seq. */
  | { k: "a"; seq: number }
  /** This telemetry seq was dropped to keep the journal under its bound. */
  | { k: "d"; seq: number };

/**
 * Record layout: magic (2 bytes 0xA1 0x7E), payload length (u32 LE), CRC-32 of the payload
 * (u32 LE), payload (UTF-8 JSON). The magic lets a reader find the next record after damage.
 */
const MAGIC0 = 0xa1;
const MAGIC1 = 0x7e;
export const HEADER_BYTES = 10;
const MAX_PAYLOAD = 1024 * 1024;

export function encodeRecord(rec: JournalRecord): Buffer {
  const payload = Buffer.from(JSON.stringify(rec), "utf8");
  const out = Buffer.allocUnsafe(HEADER_BYTES + payload.length);
  out[0] = MAGIC0;
  out[1] = MAGIC1;
  out.writeUInt32LE(payload.length, 2);
  out.writeUInt32LE(crc32(payload), 6);
  payload.copy(out, HEADER_BYTES);
  return out;
}

export interface DecodeResult {
  records: JournalRecord[];
  /** Bytes that did not form a valid record (a torn tail or a damaged region). */
  damagedBytes: number;
  /** Number of separate damaged regions. */
  damagedRegions: number;
}

function recordAt(buf: Buffer, off: number): { rec: JournalRecord; size: number } | null {
  if (off + HEADER_BYTES > buf.length || buf[off] !== MAGIC0 || buf[off + 1] !== MAGIC1) return null;
  const len = buf.readUInt32LE(off + 2);
  if (len === 0 || len > MAX_PAYLOAD || off + HEADER_BYTES + len > buf.length) return null;
  const payload = buf.subarray(off + HEADER_BYTES, off + HEADER_BYTES + len);
  if (crc32(payload) !== buf.readUInt32LE(off + 6)) return null;
  try {
    const rec = JSON.parse(payload.toString("utf8")) as JournalRecord;
    if (typeof rec !== "object" || rec === null || !("k" in rec)) return null;
    return { rec, size: HEADER_BYTES + len };
  } catch {
    return null;
  }
}

/** Decode a whole journal, skipping (and counting) any bytes that are not a valid record. */
export function decodeJournal(buf: Buffer): DecodeResult {
  const records: JournalRecord[] = [];
  let off = 0;
  let damagedBytes = 0;
  let damagedRegions = 0;
  let inDamage = false;
  while (off < buf.length) {
    const r = recordAt(buf, off);
    if (r) {
      records.push(r.rec);
      off += r.size;
      inDamage = false;
    } else {
      if (!inDamage) damagedRegions++;
      inDamage = true;
      damagedBytes++;
      off++;
    }
  }
  return { records, damagedBytes, damagedRegions };
}
