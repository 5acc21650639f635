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
  /** Records with a valid checksum whose content is not a valid record: skipped, never trusted. */
  invalidRecords: number;
  /** The seqs of skipped message records, where the seq itself could be read. */
  lostSeqs: number[];
}

export interface DecodeOptions {
  /** Every message topic must start with this (the pillar's own `pillar/v1/{id}/`). */
  topicPrefix: string;
}

const MAX_TOPIC = 256;

function isSeq(v: unknown): v is number {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 1;
}

/** A JSON object body (what the outbox always writes); anything else cannot be published as-is. */
function isObjectBody(body: unknown): body is string {
  if (typeof body !== "string" || body.length === 0 || body[0] !== "{") return false;
  try {
    const v = JSON.parse(body) as unknown;
    return typeof v === "object" && v !== null && !Array.isArray(v);
  } catch {
    return false;
  }
}

/**
 * Why a decoded payload is not a record this pillar may trust, or null when it is one. A
 * message's topic must be a plain topic (no wildcards, no NUL) below the pillar's own prefix:
 * a record aimed anywhere else would make the broker drop the connection at every replay.
 */
export function recordProblem(v: unknown, o: DecodeOptions): string | null {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return "not an object";
  const r = v as Record<string, unknown>;
  switch (r.k) {
    case "h":
      return isSeq(r.nextSeq) ? null : "nextSeq is not a positive integer";
    case "a":
    case "d":
      return isSeq(r.seq) ? null : "seq is not a positive integer";
    case "m": {
      if (!isSeq(r.seq)) return "seq is not a positive integer";
      const t = r.topic;
      if (
        typeof t !== "string" ||
        t.length > MAX_TOPIC ||
        !t.startsWith(o.topicPrefix) ||
        t.length === o.topicPrefix.length
      )
        return "topic is not below the pillar's own prefix";
      if (t.includes("#") || t.includes("+") || t.includes("\0")) return "topic holds a wildcard or NUL";
      if (r.cls !== "alarm" && r.cls !== "telemetry") return "cls is neither alarm nor telemetry";
      if (!isObjectBody(r.body)) return "body is not a JSON object";
      return null;
    }
    default:
      return "unknown record kind";
  }
}

type Slot = { size: number; rec: JournalRecord } | { size: number; invalid: unknown } | null;

function recordAt(buf: Buffer, off: number, o: DecodeOptions): Slot {
  if (off + HEADER_BYTES > buf.length || buf[off] !== MAGIC0 || buf[off + 1] !== MAGIC1) return null;
  const len = buf.readUInt32LE(off + 2);
  if (len === 0 || len > MAX_PAYLOAD || off + HEADER_BYTES + len > buf.length) return null;
  const payload = buf.subarray(off + HEADER_BYTES, off + HEADER_BYTES + len);
  if (crc32(payload) !== buf.readUInt32LE(off + 6)) return null;
  const size = HEADER_BYTES + len;
  let v: unknown;
  try {
    v = JSON.parse(payload.toString("utf8"));
  } catch {
    return { size, invalid: undefined };
  }
  return recordProblem(v, o) === null ? { size, rec: v as JournalRecord } : { size, invalid: v };
}

/**
 * Decode a whole journal, skipping (and counting) any bytes that are not a valid record and
 * any checksummed record whose content is not valid (skipped whole, its seq noted if readable).
 */
export function decodeJournal(buf: Buffer, o: DecodeOptions): DecodeResult {
  const records: JournalRecord[] = [];
  const lostSeqs: number[] = [];
  let off = 0;
  let damagedBytes = 0;
  let damagedRegions = 0;
  let invalidRecords = 0;
  let inDamage = false;
  while (off < buf.length) {
    const r = recordAt(buf, off, o);
    if (r && "rec" in r) {
      records.push(r.rec);
      off += r.size;
      inDamage = false;
    } else if (r) {
      invalidRecords++;
      const bad = r.invalid as { k?: unknown; seq?: unknown } | undefined;
      if (bad?.k === "m" && isSeq(bad.seq)) lostSeqs.push(bad.seq);
      off += r.size;
      inDamage = false;
    } else {
      if (!inDamage) damagedRegions++;
      inDamage = true;
      damagedBytes++;
      off++;
    }
  }
  return { records, damagedBytes, damagedRegions, invalidRecords, lostSeqs };
}
