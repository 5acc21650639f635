import { readFile, statfs } from "node:fs/promises";
import type { Logger } from "pino";
import type { Fault } from "../bus/events.js";
import type { Outbox } from "../outbox/outbox.js";

export interface HealthSources {
  pillarId: () => string;
  dataDir: () => string;
  intervalS: () => number;
  outbox: Outbox;
  healthTopic: () => string;
  faults: () => Fault[];
  /** Named component states, e.g. { uplink: "connected", button: "ok", tamper: "closed" }. */
  components: () => Record<string, string>;
  /** The MQTT client certificate in use (mutual TLS), or null. */
  clientCert?: () => { commonName: string; serialNumber: string; notAfter: string; daysLeft: number } | null;
  log: Logger;
}

/** Reads the SoC temperature where the kernel exposes it (Pi: thermal_zone0, millidegrees). */
async function cpuTempC(): Promise<number | null> {
  try {
    const raw = await readFile("/sys/class/thermal/thermal_zone0/temp", "utf8");
    const v = Number(raw.trim()) / 1000;
    return Number.isFinite(v) ? Math.round(v * 10) / 10 : null;
  } catch {
    return null;
  }
}

async function diskFreeBytes(dir: string): Promise<number | null> {
  try {
    const s = await statfs(dir);
    return s.bavail * s.bsize;
  } catch {
    return null;
  }
}

/**
 * Sends `pillar/v1/{id}/health` every heartbeat interval through the outbox (as telemetry: kept
 * while the link is down, dropped first when the journal is full).
 */
export class HealthService {
  private timer: NodeJS.Timeout | undefined;
  private readonly startedAt = Date.now();
  private readonly sections = new Map<string, () => unknown>();

  constructor(private readonly s: HealthSources) {}

  /**
   * Add a section to every health message and `GET /health` (a feature's own state, e.g.
   * `recording`). A section that throws reports `{ error }` instead of failing the message.
   */
  addSection(name: string, read: () => unknown): void {
    this.sections.set(name, read);
  }

  async start(): Promise<void> {
    const tick = async () => {
      try {
        await this.send();
      } catch (err) {
        this.s.log.warn({ err }, "health report failed");
      }
      this.timer = setTimeout(() => void tick(), this.s.intervalS() * 1000);
    };
    this.timer = setTimeout(() => void tick(), 1000);
  }

  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  async snapshot(): Promise<Record<string, unknown>> {
    const cert = this.s.clientCert?.();
    return {
      ...(await this.readSections()), // first: a section never hides a core field
      pillarId: this.s.pillarId(),
      at: new Date().toISOString(),
      uptimeS: Math.round((Date.now() - this.startedAt) / 1000),
      cpuTempC: await cpuTempC(),
      diskFreeBytes: await diskFreeBytes(this.s.dataDir()),
      outbox: { depth: this.s.outbox.depth, bytes: this.s.outbox.pendingBytes },
      components: this.s.components(),
      faults: this.s.faults().map((f) => ({
        component: f.component,
        code: f.code,
        message: f.message,
        since: new Date(f.at).toISOString(),
      })),
      memoryMb: memoryMb(),
      ...(cert
        ? {
            clientCert: {
              commonName: cert.commonName,
              serialNumber: cert.serialNumber,
              notAfter: cert.notAfter,
              daysLeft: cert.daysLeft,
            },
          }
        : {}),
    };
  }

  private async readSections(): Promise<Record<string, unknown>> {
    const out: Record<string, unknown> = {};
    for (const [name, read] of this.sections) {
      try {
        out[name] = await read();
      } catch (err) {
        out[name] = { error: (err as Error).message };
      }
    }
    return out;
  }

  async send(): Promise<void> {
    const snap = await this.snapshot();
    this.s.outbox.submit(this.s.healthTopic(), "telemetry", (seq) => ({ seq, ...snap }));
  }
}

function memoryMb(): { rss: number; heapUsed: number; external: number } {
  const m = process.memoryUsage();
  const mb = (v: number) => Math.round((v / 1048576) * 10) / 10;
  return { rss: mb(m.rss), heapUsed: mb(m.heapUsed), external: mb(m.external) };
}
