import type { Logger } from "pino";
import { moduleLogger } from "../log/logger.js";
import type { ConfigApplier } from "./config-applier.js";
import { sha256Hex } from "./config-signature.js";
import {
  crcHex,
  FLASH_PROTOCOL_VERSION,
  MAX_CHUNK_BYTES,
  MAX_CONFIG_BYTES,
  PROGRESS_INTERVAL_MS,
  type PillarFrame,
  type PillarIdentity,
} from "./flash-protocol.js";
import { SerialLink, type LinkEvent } from "./serial-link.js";

export interface ProvisioningListenerDeps {
  port: string;
  baudRate: number;
  applier: ConfigApplier;
  /** Who this pillar is now (sent in HELLO). */
  identity: () => Promise<PillarIdentity> | PillarIdentity;
  log?: Logger;
  /** A transfer with no frame for this long is dropped. */
  sessionTimeoutMs?: number;
  /** Try to reopen a missing or closed port this often. */
  reopenMs?: number;
}

interface Transfer {
  size: number;
  sha256: string;
  chunkSize: number;
  chunks: number;
  signature: string | null;
  parts: Buffer[];
  verified: boolean;
}

/**
 * The pillar side of `pillar flash`: answers the flash protocol on a serial port (USB gadget or
 * console cable), collects a config chunk by chunk, verifies it and hands it to the
 * ConfigApplier. A missing or vanished port is retried; a transfer cut short (cable pulled,
 * timeout) is dropped and the running config stays as it was.
 */
export class ProvisioningListener {
  private link: SerialLink | undefined;
  private transfer: Transfer | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private reopenTimer: NodeJS.Timeout | undefined;
  private running = false;
  private applying = false;
  private readonly log: Logger;

  constructor(private readonly deps: ProvisioningListenerDeps) {
    this.log = deps.log ?? moduleLogger("provisioning");
  }

  async start(): Promise<void> {
    this.running = true;
    await this.openPort();
  }

  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.reopenTimer);
    clearTimeout(this.idleTimer);
    this.transfer = undefined;
    await this.link?.close();
    this.link = undefined;
  }

  private async openPort(): Promise<void> {
    if (!this.running) return;
    const link = new SerialLink(this.deps.port, this.deps.baudRate);
    link.onEvent((e) => void this.onLinkEvent(link, e));
    try {
      await link.open();
      this.link = link;
      this.log.info({ port: this.deps.port, baudRate: this.deps.baudRate }, "provisioning listener ready");
    } catch (err) {
      this.log.warn({ port: this.deps.port, err: (err as Error).message }, "provisioning port not available; retrying");
      this.scheduleReopen();
    }
  }

  private scheduleReopen(): void {
    if (!this.running) return;
    clearTimeout(this.reopenTimer);
    this.reopenTimer = setTimeout(() => void this.openPort(), this.deps.reopenMs ?? 2000);
  }

  private drop(reason: string): void {
    const t = this.transfer;
    if (t)
      this.log.warn(
        { reason, received: t.parts.length, chunks: t.chunks },
        `transfer aborted (${reason}) after ${t.parts.length}/${t.chunks} chunks; the current config is unchanged`,
      );
    this.transfer = undefined;
    clearTimeout(this.idleTimer);
  }

  private touch(): void {
    clearTimeout(this.idleTimer);
    if (!this.transfer) return;
    this.idleTimer = setTimeout(
      () => this.drop(`no frame for ${this.deps.sessionTimeoutMs ?? 15_000} ms`),
      this.deps.sessionTimeoutMs ?? 15_000,
    );
  }

  private async onLinkEvent(link: SerialLink, e: LinkEvent): Promise<void> {
    if (e.kind === "closed") {
      if (link !== this.link) return;
      this.log.warn({ port: this.deps.port, reason: e.reason }, "provisioning port closed (cable pulled?)");
      this.drop("serial link closed");
      this.link = undefined;
      await link.close();
      this.scheduleReopen();
      return;
    }
    // A reply that cannot be written means the cable is gone (the pty/USB end reports EIO before,
    // or instead of, a close): treat it as the link closing, at once.
    const reply = (f: PillarFrame) =>
      link.send(f).catch(async (err: Error) => {
        this.log.warn({ err: err.message }, "could not answer");
        await this.onLinkEvent(link, { kind: "closed", reason: `write failed: ${err.message}` });
      });
    if (e.kind === "bad") {
      this.log.debug({ reason: e.reason }, "bad frame");
      await reply({ t: "NAK", reason: e.reason });
      return;
    }
    this.touch();
    try {
      await this.handle(e.frame, reply);
    } catch (err) {
      await reply({ t: "ERR", code: "failed", message: (err as Error).message });
    }
  }

  private async handle(f: Record<string, unknown>, reply: (f: PillarFrame) => Promise<void>): Promise<void> {
    const err = (code: string, message: string) => reply({ t: "ERR", code, message });
    if (this.applying && f.t !== "HELLO") return err("busy", "a config is being applied");
    switch (f.t) {
      case "HELLO": {
        this.drop("new session");
        const id = await this.deps.identity();
        this.log.info({ session: f.session }, "flash session opened");
        return reply({
          t: "HELLO",
          proto: FLASH_PROTOCOL_VERSION,
          session: String(f.session ?? ""),
          maxChunk: MAX_CHUNK_BYTES,
          ...id,
        });
      }
      case "BEGIN": {
        const { size, sha256, chunkSize, chunks, signature } = f as {
          size: number;
          sha256: string;
          chunkSize: number;
          chunks: number;
          signature: unknown;
        };
        const ok =
          Number.isInteger(size) &&
          size > 0 &&
          size <= MAX_CONFIG_BYTES &&
          Number.isInteger(chunkSize) &&
          chunkSize > 0 &&
          chunkSize <= MAX_CHUNK_BYTES &&
          chunks === Math.ceil(size / chunkSize) &&
          typeof sha256 === "string" &&
          /^[0-9a-f]{64}$/.test(sha256) &&
          (signature === null || typeof signature === "string");
        if (!ok)
          return err(
            "bad_begin",
            `BEGIN needs size 1..${MAX_CONFIG_BYTES}, chunkSize 1..${MAX_CHUNK_BYTES}, chunks = ceil(size/chunkSize), sha256 hex`,
          );
        this.transfer = {
          size,
          sha256,
          chunkSize,
          chunks,
          signature: signature as string | null,
          parts: [],
          verified: false,
        };
        this.touch();
        this.log.info({ size, chunks, signed: signature !== null }, "receiving a config");
        return reply({ t: "READY", chunks });
      }
      case "DATA": {
        const t = this.transfer;
        if (!t) return err("no_transfer", "DATA before BEGIN");
        const seq = f.seq as number;
        if (seq < t.parts.length) return reply({ t: "ACK", seq }); // a repeat: our ACK was lost
        if (seq !== t.parts.length)
          return reply({ t: "NAK", seq: t.parts.length, reason: `expected chunk ${t.parts.length}` });
        const data = Buffer.from(String(f.data ?? ""), "base64");
        const want = seq === t.chunks - 1 ? t.size - seq * t.chunkSize : t.chunkSize;
        if (crcHex(data) !== f.crc || data.length !== want)
          return reply({ t: "NAK", seq, reason: "chunk checksum mismatch" });
        t.parts.push(data);
        return reply({ t: "ACK", seq });
      }
      case "VERIFY": {
        const t = this.transfer;
        if (!t) return err("no_transfer", "VERIFY before BEGIN");
        if (t.parts.length !== t.chunks) return err("incomplete", `received ${t.parts.length} of ${t.chunks} chunks`);
        const bytes = Buffer.concat(t.parts);
        if (sha256Hex(bytes) !== t.sha256) {
          this.drop("sha256 mismatch");
          return err("sha256_mismatch", "the received file's sha256 differs from BEGIN's; send it again");
        }
        try {
          const v = await this.deps.applier.verify({ bytes, signature: t.signature ?? undefined, source: "serial" });
          t.verified = true;
          return reply({
            t: "VERIFIED",
            sha256: v.sha256,
            pillarId: v.config.pillar.id,
            signed: v.signed,
            keyId: v.keyId ?? null,
          });
        } catch (e) {
          const pe = e as { code?: string; message: string };
          this.log.warn({ code: pe.code, reason: pe.message }, "config refused");
          this.drop("refused");
          return err(pe.code ?? "refused", pe.message);
        }
      }
      case "APPLY": {
        const t = this.transfer;
        if (!t?.verified) return err("not_verified", "APPLY before a successful VERIFY");
        this.transfer = undefined;
        clearTimeout(this.idleTimer);
        await reply({ t: "APPLYING" });
        this.applying = true;
        const progress = setInterval(() => void reply({ t: "PROGRESS", stage: "applying" }), PROGRESS_INTERVAL_MS);
        try {
          const r = await this.deps.applier.apply({
            bytes: Buffer.concat(t.parts),
            signature: t.signature ?? undefined,
            source: "serial",
          });
          return reply({
            t: "RESULT",
            ok: r.ok,
            code: r.code,
            stage: r.stage,
            message: r.message,
            ...(r.pillarId ? { pillarId: r.pillarId } : {}),
            sha256: r.sha256,
            rolledBack: r.rolledBack,
            durationMs: r.durationMs,
          });
        } finally {
          clearInterval(progress);
          this.applying = false;
        }
      }
      case "ABORT":
        this.drop("aborted by the client");
        return;
      default:
        return err("unknown_frame", `unknown frame type ${JSON.stringify(f.t)}`);
    }
  }
}
