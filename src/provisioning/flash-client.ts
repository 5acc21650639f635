import { randomBytes } from "node:crypto";
import { sha256Hex } from "./config-signature.js";
import {
  crcHex,
  DEFAULT_CHUNK_BYTES,
  FLASH_PROTOCOL_VERSION,
  PROGRESS_INTERVAL_MS,
  type ClientFrame,
} from "./flash-protocol.js";
import { SerialLink, type LinkEvent } from "./serial-link.js";

export interface FlashOptions {
  port: string;
  baudRate: number;
  bytes: Uint8Array;
  signature?: string;
  chunkSize?: number;
  /** Keep saying HELLO this long before giving up on finding a pillar. */
  helloTimeoutMs?: number;
  /** Wait this long for the answer to one frame before sending it again. */
  frameTimeoutMs?: number;
  /** Give up on a frame after this many sends. */
  maxTries?: number;
  /** Wait this long for RESULT after APPLY (the pillar restarts services and self-tests). */
  applyTimeoutMs?: number;
  progress?: (msg: string) => void;
}

export interface FlashResult {
  ok: boolean;
  code: string;
  stage: string;
  message: string;
  pillarBefore: { pillarId: string; version: string; mode: string };
  pillarId?: string;
  sha256: string;
  rolledBack: boolean;
  retransmits: number;
  wireBytes: number;
  durationMs: number;
}

/** A flash that could not complete: the message says where and why. */
export class FlashError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "FlashError";
  }
}

type Msg = Record<string, unknown> & { t: string };

/**
 * The installer side of `pillar flash CONFIG --port DEV`: HELLO, BEGIN, DATA chunks (each ACKed,
 * resent on NAK or silence), VERIFY, APPLY, RESULT. Throws FlashError on a lost link, a refused
 * config or a pillar that stops answering; resolves with the pillar's RESULT otherwise (which
 * may say the new config failed its self-test and was rolled back).
 */
export async function flashOverSerial(o: FlashOptions): Promise<FlashResult> {
  const t0 = Date.now();
  const link = new SerialLink(o.port, o.baudRate);
  const queue: LinkEvent[] = [];
  let waiter: (() => void) | undefined;
  let phase = "connecting";
  let wireBytes = 0;
  let retransmits = 0;
  link.onEvent((e) => {
    queue.push(e);
    waiter?.();
  });
  const say = o.progress ?? (() => undefined);

  /** The next frame, or null on timeout; throws if the link closed. */
  const next = async (timeoutMs: number): Promise<Msg | "bad" | null> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const e = queue.shift();
      if (e?.kind === "closed")
        throw new FlashError(
          "link_lost",
          `the serial link closed during ${phase} (${e.reason}): cable pulled? The pillar keeps its current config.`,
        );
      if (e?.kind === "frame") return e.frame;
      if (e?.kind === "bad") return "bad";
      const left = deadline - Date.now();
      if (left <= 0) return null;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        waiter = () => {
          clearTimeout(t);
          resolve();
        };
      });
      waiter = undefined;
    }
  };
  const send = async (f: ClientFrame): Promise<void> => {
    wireBytes += Buffer.byteLength(JSON.stringify(f)) + 10;
    try {
      await link.send(f);
    } catch (err) {
      throw new FlashError(
        "link_lost",
        `the serial link failed during ${phase}: ${(err as Error).message} (cable pulled?). The pillar keeps its current config.`,
      );
    }
  };
  /** Send `f` until a frame passes `done`; NAK or silence sends it again. ERR throws. */
  const exchange = async (
    f: ClientFrame,
    done: (m: Msg) => boolean,
    timeoutMs = o.frameTimeoutMs ?? 2000,
  ): Promise<Msg> => {
    const tries = o.maxTries ?? 5;
    let lastProblem = "no answer";
    for (let attempt = 1; attempt <= tries; attempt++) {
      if (attempt > 1) retransmits++;
      await send(f);
      const until = Date.now() + timeoutMs;
      for (;;) {
        const m = await next(until - Date.now());
        if (m === null) break;
        if (m === "bad") {
          lastProblem = "garbled answer";
          break;
        }
        if (m.t === "ERR")
          throw new FlashError(String(m.code), `the pillar refused during ${phase}: ${String(m.message)}`);
        if (done(m)) return m;
        if (m.t === "NAK" && (m.seq === undefined || m.seq === (f as { seq?: number }).seq)) {
          lastProblem = String(m.reason);
          break;
        }
        // anything else is a late answer to an earlier frame: ignore it
      }
    }
    throw new FlashError(
      "no_answer",
      `${phase}: gave up after ${tries} tries (${lastProblem}); is the cable connected and the pillar running its provisioning listener?`,
    );
  };

  await link.open();
  try {
    phase = "HELLO";
    const session = randomBytes(6).toString("hex");
    const helloDeadline = Date.now() + (o.helloTimeoutMs ?? 10_000);
    let hello: Msg | undefined;
    while (!hello && Date.now() < helloDeadline) {
      await send({ t: "HELLO", proto: FLASH_PROTOCOL_VERSION, session });
      const until = Math.min(helloDeadline, Date.now() + 500);
      for (let m = await next(until - Date.now()); m !== null; m = await next(until - Date.now())) {
        if (m !== "bad" && m.t === "HELLO" && m.session === session) {
          hello = m;
          break;
        }
      }
    }
    if (!hello)
      throw new FlashError(
        "no_pillar",
        `no pillar answered on ${o.port} within ${o.helloTimeoutMs ?? 10_000} ms: check the cable and that the pillar is powered`,
      );
    if (hello.proto !== FLASH_PROTOCOL_VERSION)
      throw new FlashError(
        "protocol",
        `the pillar speaks flash protocol ${String(hello.proto)}, this tool ${FLASH_PROTOCOL_VERSION}`,
      );
    const before = { pillarId: String(hello.pillarId), version: String(hello.version), mode: String(hello.mode) };
    say(`connected: pillar ${before.pillarId}, software ${before.version}, ${before.mode} mode`);

    const chunkSize = Math.min(o.chunkSize ?? DEFAULT_CHUNK_BYTES, Number(hello.maxChunk) || DEFAULT_CHUNK_BYTES);
    const bytes = Buffer.from(o.bytes);
    const sha256 = sha256Hex(bytes);
    const chunks = Math.ceil(bytes.length / chunkSize);
    phase = "BEGIN";
    await exchange(
      { t: "BEGIN", size: bytes.length, sha256, chunkSize, chunks, signature: o.signature ?? null },
      (m) => m.t === "READY",
    );
    for (let seq = 0; seq < chunks; seq++) {
      phase = `transfer of chunk ${seq + 1}/${chunks}`;
      const part = bytes.subarray(seq * chunkSize, (seq + 1) * chunkSize);
      await exchange(
        { t: "DATA", seq, data: part.toString("base64"), crc: crcHex(part) },
        (m) => m.t === "ACK" && m.seq === seq,
      );
    }
    say(`sent ${bytes.length} bytes in ${chunks} chunks${retransmits ? ` (${retransmits} resent)` : ""}`);
    phase = "VERIFY";
    const v = await exchange({ t: "VERIFY" }, (m) => m.t === "VERIFIED", o.frameTimeoutMs ?? 5000);
    say(`verified: config for ${String(v.pillarId)}, ${v.signed ? `signed by key ${String(v.keyId)}` : "unsigned"}`);
    phase = "APPLY";
    await exchange({ t: "APPLY" }, (m) => m.t === "APPLYING");
    // The pillar sends PROGRESS every second while it applies: silence means it died or rebooted.
    const resultDeadline = Date.now() + (o.applyTimeoutMs ?? 60_000);
    const silenceMs = Math.max(5 * PROGRESS_INTERVAL_MS, o.frameTimeoutMs ?? 2000);
    let r: Msg | "bad" | null;
    do r = await next(Math.min(silenceMs, resultDeadline - Date.now()));
    while (r !== null && (r === "bad" || r.t !== "RESULT"));
    if (r === null)
      throw new FlashError(
        "no_result",
        "the pillar accepted APPLY, then stopped answering (restarted or powered off?): on its next start it keeps the new config only if it had passed its self-test; flash again to see which config it runs",
      );
    return {
      ok: r.ok === true,
      code: String(r.code),
      stage: String(r.stage),
      message: String(r.message),
      pillarBefore: before,
      ...(r.pillarId ? { pillarId: String(r.pillarId) } : {}),
      sha256,
      rolledBack: r.rolledBack === true,
      retransmits,
      wireBytes,
      durationMs: Date.now() - t0,
    };
  } finally {
    await link.close();
  }
}
