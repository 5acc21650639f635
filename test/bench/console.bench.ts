/**
 * The officers' console figures, with a real Mosquitto, the console server and headless Chromium
 * (one officer's page at 1366×768):
 * - console_press_to_card_ms_p50 / _p95: a press on one of 300 simulated pillars online
 *   (`pillar fleet simulate`, heartbeats every 5 s, presses at random pillars) → its alarm card
 *   shown in the page (the card's first render, page clock) minus the press's contact edge
 *   (`occurredAt`, the pillar's clock: the same machine). Nobody acknowledges, so the queue grows
 *   to BENCH_CONSOLE_PRESSES open alarms (default 40) while 300 fleet rows update.
 * - console_login_p95_ms_under_flood: a correct login while 400 wrong ones run (console-login.bench.ts).
 * - console_rejoin_ms: a call answered on the page, then the page reloaded: reload → decoded video
 *   frames again (the same call re-joined), median of BENCH_REJOINS (default 5) reloads, with an
 *   in-process sim pillar (sim camera 640×360).
 */
import type { Page } from "playwright-core";
import { pino } from "pino";
import { parseConsoleConfig } from "../../center/server/console-config.js";
import { ConsoleServer } from "../../center/server/console-server.js";
import { CallRig, officerVoiceWav } from "../call/helpers/call-rig.js";
import { type RunningChromium, startChromium } from "../support/chromium.js";
import { FleetSimProcess } from "../support/fleet-sim-process.js";
import { TestMosquitto } from "../support/mosquitto.js";
import { waitFor } from "../support/wait.js";
import { runLoginFloodBench } from "./console-login.bench.js";
import { percentile, round } from "./proc-stats.js";

const PILLARS = 300;

/** Press → card latencies (ms) of every card the page showed for a press after `since`. */
function cardLatencies(page: Page, since: number): Promise<number[]> {
  return page.evaluate((since) => {
    const c = (window as any).pillarConsole;
    const out: number[] = [];
    for (const [id, shownAt] of c.shown as Map<string, number>) {
      const i = c.store.incidents.get(id);
      if (i && Date.parse(i.pressedAt) > since) out.push(shownAt - Date.parse(i.pressedAt));
    }
    return out;
  }, since);
}

async function pressToCard(chrome: RunningChromium, presses: number): Promise<Record<string, number>> {
  const mosq = await new TestMosquitto().start();
  const log = pino({ level: "silent" });
  const server = new ConsoleServer({ brokerUrl: mosq.url, port: 0, config: parseConsoleConfig({}), log });
  let sim: FleetSimProcess | undefined;
  try {
    await server.start();
    const page = await chrome.browser.newPage({ viewport: { width: 1366, height: 768 } });
    await page.goto(`${server.url}?officer=bench-officer`);
    // presses at 30 a minute on random pillars; only those after the whole fleet is online count
    sim = new FleetSimProcess([
      ...["--count", String(PILLARS), "--broker", mosq.url, "--heartbeat", "5", "--presses-per-min", "30"],
    ]).start();
    const seen = () => page.evaluate(() => (window as any).pillarConsole?.store.pillars.size ?? 0);
    await waitFor(async () => (await seen()) >= PILLARS, `${PILLARS} pillars on the page`, 300_000, 500);
    const allOnline = Date.now();
    const cards = async () => (await cardLatencies(page, allOnline)).length;
    await waitFor(async () => (await cards()) >= presses, `${presses} alarm cards`, presses * 6000 + 300_000, 500);
    const lat = (await cardLatencies(page, allOnline)).sort((a, b) => a - b);
    return {
      console_press_to_card_ms_p50: round(percentile(lat, 50), 0),
      console_press_to_card_ms_p95: round(percentile(lat, 95), 0),
      console_press_to_card_n: lat.length,
    };
  } finally {
    await sim?.kill();
    await server.stop();
    await mosq.dispose();
  }
}

async function rejoin(chrome: RunningChromium, reloads: number): Promise<Record<string, number>> {
  const rig = new CallRig({}, "bench-rejoin");
  try {
    await rig.start();
    const page = await chrome.browser.newPage({ viewport: { width: 1366, height: 768 } });
    await page.goto(`${rig.console.url}?officer=bench-officer`);
    await page.locator('.fleet tr[data-pillar="bench-rejoin"]').waitFor({ timeout: 20_000 });
    await rig.press();
    await page.locator(".card.alarm button.answer:enabled").click({ timeout: 20_000 });
    const frames = () => page.evaluate(() => (window as any).pillarConsole?.stats.frames ?? 0);
    await waitFor(async () => (await frames()) > 10, "video before the first reload", 20_000);
    const times: number[] = [];
    for (let i = 0; i < reloads; i++) {
      const t0 = Date.now();
      await page.reload();
      await waitFor(async () => (await frames()) > 0, "video after a reload", 30_000, 20);
      times.push(Date.now() - t0);
      await waitFor(async () => (await frames()) > 10, "video settled", 20_000);
    }
    times.sort((a, b) => a - b);
    return { console_rejoin_ms: round(percentile(times, 50), 0), console_rejoin_max_ms: times.at(-1)! };
  } finally {
    await rig.stop();
  }
}

export async function runConsoleBench(): Promise<Record<string, number>> {
  const chrome = await startChromium({ fakeAudioWav: await officerVoiceWav() });
  try {
    return {
      ...(await pressToCard(chrome, Number(process.env.BENCH_CONSOLE_PRESSES ?? 40))),
      ...(await rejoin(chrome, Number(process.env.BENCH_REJOINS ?? 5))),
      ...(await runLoginFloodBench()),
    };
  } finally {
    await chrome.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(JSON.stringify(await runConsoleBench()));
  process.exit(0);
}
