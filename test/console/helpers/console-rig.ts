import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { pino } from "pino";
import { type ConsoleConfig, parseConsoleConfig } from "../../../center/server/console-config.js";
import { ConsoleServer } from "../../../center/server/console-server.js";
import { startChromium, type RunningChromium } from "../../support/chromium.js";
import { TestMosquitto } from "../../support/mosquitto.js";
import { SimPillar } from "../../support/sim-pillar.js";

export const OUTPUT_DIR = join(process.cwd(), "test-output");

/** Pillars of three Almaty districts (Kazakh and Russian addresses, as on real sites). */
export const SITES = [
  {
    id: "alm-med-001",
    lat: 43.2567,
    lon: 76.9286,
    address: "Достық даңғылы, 6 / проспект Достык, 6",
    district: "Medeu",
  },
  { id: "alm-alm-002", lat: 43.2431, lon: 76.9097, address: "Абай даңғылы, 52", district: "Almaly" },
  { id: "alm-bos-003", lat: 43.2189, lon: 76.9283, address: "Al-Farabi Ave 77, KBTU", district: "Bostandyk" },
];

/** A pino logger whose lines the test can read (the console's "refused" warnings). */
export function capturingLog(): { log: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const log = pino(
    { level: "info" },
    {
      write(s: string) {
        lines.push(JSON.parse(s) as Record<string, unknown>);
      },
    },
  );
  return { log, lines };
}

/**
 * A real Mosquitto, the simulated pillars of SITES (in-process, sim I/O, no call), the console
 * server and headless Chromium, all on 127.0.0.1. Stopped in `stop()`.
 */
export class ConsoleRig {
  mosq = new TestMosquitto();
  pillars: SimPillar[] = [];
  console!: ConsoleServer;
  chrome!: RunningChromium;
  logs = capturingLog();

  constructor(private readonly config: Partial<ConsoleConfig> = {}) {}

  async start(): Promise<this> {
    await this.mosq.start();
    for (const s of SITES) {
      const p = new SimPillar({
        pillar: { id: s.id },
        location: { lat: s.lat, lon: s.lon, address: s.address, district: s.district },
        heartbeat: { intervalS: 5 },
      });
      this.pillars.push(await p.start(this.mosq.url));
    }
    this.console = new ConsoleServer({
      brokerUrl: this.mosq.url,
      port: 0,
      config: parseConsoleConfig(this.config),
      log: this.logs.log,
    });
    await this.console.start();
    this.chrome = await startChromium();
    return this;
  }

  pillar(id: string): SimPillar {
    return this.pillars[SITES.findIndex((s) => s.id === id)]!;
  }

  /** A new page at 1366×768 (the duty desk's screen), in `locale`, with every pillar listed. */
  async page(o: { locale?: string; officer?: string } = {}): Promise<Page> {
    const context = await this.chrome.browser.newContext({
      viewport: { width: 1366, height: 768 },
      locale: o.locale ?? "en-GB",
    });
    const page = await context.newPage();
    await page.goto(`${this.console.url}?officer=${o.officer ?? "officer-aigerim"}`);
    for (const s of SITES) await page.locator(`.fleet tr[data-pillar="${s.id}"]`).waitFor({ timeout: 15_000 });
    return page;
  }

  async screenshot(page: Page, name: string): Promise<void> {
    await mkdir(OUTPUT_DIR, { recursive: true });
    await page.screenshot({ path: join(OUTPUT_DIR, name) });
  }

  async stop(): Promise<void> {
    await this.chrome?.stop();
    await this.console?.stop();
    for (const p of this.pillars) await p.dispose();
    await this.mosq.dispose();
  }
}

/** The open incident of a simulated pillar (its id and state), from the pillar itself. */
export function incidentOf(p: SimPillar): { incidentId: string | null; state: string } {
  return p.app.core.incidents.snapshot() as { incidentId: string | null; state: string };
}
