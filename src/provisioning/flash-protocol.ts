import { crc32 } from "node:zlib";
import { parseBoundedJson } from "../util/bounded-json.js";

/**
 * The `pillar flash` line protocol (docs/provisioning.md "Flash protocol"). Every frame is one
 * line: a JSON object, `*`, the CRC-32 of the JSON text as 8 hex digits, LF. A frame whose CRC
 * does not match is dropped and answered with NAK. `t` names the frame type.
 */
export const FLASH_PROTOCOL_VERSION = 1;
/** Largest config the listener accepts. */
export const MAX_CONFIG_BYTES = 256 * 1024;
export const DEFAULT_CHUNK_BYTES = 256;
export const MAX_CHUNK_BYTES = 2048;
export const PROGRESS_INTERVAL_MS = 1000;

export type ClientFrame =
  | { t: "HELLO"; proto: number; session: string }
  | { t: "BEGIN"; size: number; sha256: string; chunkSize: number; chunks: number; signature: string | null }
  | { t: "DATA"; seq: number; data: string; crc: string }
  | { t: "VERIFY" }
  | { t: "APPLY" }
  | { t: "ABORT" };

export interface PillarIdentity {
  pillarId: string;
  version: string;
  mode: string;
  configVersion: number;
  configSha256: string | null;
  keyId: string | null;
}

export type PillarFrame =
  | ({ t: "HELLO"; proto: number; session: string; maxChunk: number } & PillarIdentity)
  | { t: "READY"; chunks: number }
  | { t: "ACK"; seq: number }
  | { t: "NAK"; seq?: number; reason: string }
  | { t: "VERIFIED"; sha256: string; pillarId: string; signed: boolean; keyId: string | null }
  | { t: "APPLYING" }
  /** Sent every second while applying, so the installer can tell a slow apply from a dead pillar. */
  | { t: "PROGRESS"; stage: string }
  | {
      t: "RESULT";
      ok: boolean;
      code: string;
      stage: string;
      message: string;
      pillarId?: string;
      sha256: string;
      rolledBack: boolean;
      durationMs: number;
    }
  | { t: "ERR"; code: string; message: string };

export type Frame = ClientFrame | PillarFrame;

export function crcHex(data: string | Uint8Array): string {
  return (crc32(data) >>> 0).toString(16).padStart(8, "0");
}

/** One frame as a line (with the trailing LF). */
export function encodeFrame(frame: Frame): string {
  const json = JSON.stringify(frame);
  return `${json}*${crcHex(json)}\n`;
}

/** A frame from one received line, or an error saying why the line is not one. */
export function decodeFrame(line: string): { frame: Record<string, unknown> & { t: string } } | { error: string } {
  const text = line.replace(/\r$/, "");
  const star = text.lastIndexOf("*");
  if (star < 0 || text.length - star !== 9) return { error: "no checksum" };
  const json = text.slice(0, star);
  if (crcHex(json) !== text.slice(star + 1).toLowerCase()) return { error: "frame checksum mismatch" };
  try {
    // frames are flat: a deep one is refused by a scan, never by the parser's recursion
    const frame = parseBoundedJson(json, { maxBytes: 16 * 1024, maxDepth: 4 }) as Record<string, unknown>;
    if (typeof frame?.t !== "string") return { error: "frame without a type" };
    return { frame: frame as Record<string, unknown> & { t: string } };
  } catch (err) {
    return {
      error: /nested deeper|more than the limit/.test((err as Error).message)
        ? "frame too deep or too large"
        : "frame is not JSON",
    };
  }
}
