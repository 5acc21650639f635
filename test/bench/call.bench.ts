/**
 * The call's figures, with a real pillar process (`pillar run`, sim camera at 720p30 + sim mic),
 * a real Mosquitto, the operator console and headless Chromium as the officer:
 * - press_to_first_frame_ms: simulated press → first decoded frame in the page's alarm card
 *   (requestVideoFrameCallback, wall clock), the Answer button clicked by the bench as soon as it
 *   is enabled (answering claims the call), median of BENCH_CALL_PRESSES (default 7) presses,
 *   each a fresh incident and call (onDemand camera: the encoder starts at the press).
 * - stream_cpu_ratio_to_encoder: pillar process CPU ÷ sim encoder (ffmpeg libx264) CPU over
 *   the same 10 s of an answered call (video + audio both ways), from /proc/<pid>/stat.
 * - stream_rss_mb: the pillar process's resident memory at the end of that window.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt from "mqtt";
import { pino } from "pino";
import { ConsoleServer } from "../../center/server/console-server.js";
import { startChromium } from "../support/chromium.js";
import { officerVoiceWav } from "../call/helpers/call-rig.js";
import { sleep, waitFor } from "../support/wait.js";
import { TestMosquitto } from "../support/mosquitto.js";
import { PillarProcess } from "../support/pillar-process.js";
import { DIST_ENTRY, SERVICE_ENV, SERVICE_NODE_FLAGS } from "./press-path.bench.js";
import { testConfigDoc } from "../support/sim-pillar.js";
import { cpuSeconds, percentile, round, rssMb } from "./proc-stats.js";

export async function runCallBench(
  presses = Number(process.env.BENCH_CALL_PRESSES ?? 7),
): Promise<Record<string, number>> {
  const mosq = await new TestMosquitto().start();
  const dir = await mkdtemp(join(tmpdir(), "call-bench-"));
  const doc = testConfigDoc({
    pillar: { id: "bench-001" },
    dataDir: join(dir, "data"),
    call: { bindAddress: "127.0.0.1", camera: { width: 1280, height: 720, fps: 30, bitrateKbps: 2000 } },
  });
  doc.broker = { ...doc.broker, url: mosq.url };
  // the production form, as the Pi's service runs it: the built bundle with the service's Node flags
  const pillar = new PillarProcess(
    await PillarProcess.writeConfig(dir, doc),
    [],
    DIST_ENTRY,
    SERVICE_NODE_FLAGS,
    SERVICE_ENV,
  );
  let chrome: Awaited<ReturnType<typeof startChromium>> | undefined;
  let console_: ConsoleServer | undefined;
  const center = await mqtt.connectAsync(mosq.url, { clientId: "bench-center", protocolVersion: 4 });
  try {
    await pillar.start();
    console_ = new ConsoleServer({
      brokerUrl: mosq.url,
      port: 0,
      simControlUrl: `http://127.0.0.1:${pillar.controlPort}`,
      log: pino({ level: "silent" }),
    });
    await console_.start();
    chrome = await startChromium({ fakeAudioWav: await officerVoiceWav() });
    const page = await chrome.browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(`${console_.url}?officer=bench-officer`);
    await page.locator('.fleet tr[data-state="online"]').waitFor({ timeout: 20_000 });

    const closeIncident = async () => {
      const inc = (await pillar.http("GET", "/state")).incident as { incidentId: string | null };
      if (!inc.incidentId) return;
      for (const cmd of ["incident.ack", "incident.close"]) {
        await center.publishAsync(
          `pillar/v1/bench-001/cmd/${cmd}`,
          JSON.stringify({ correlationId: `b-${cmd}`, incidentId: inc.incidentId, issuedAt: new Date().toISOString() }),
          { qos: 1 },
        );
        await sleep(100);
      }
      await waitFor(
        async () => ((await pillar.http("GET", "/state")).incident as { state: string }).state === "idle",
        "idle",
        10_000,
      );
      await waitFor(async () => (await pillar.http("GET", "/call")).session === null, "no session", 10_000);
    };

    if (process.env.BENCH_CALL_PROFILE) {
      const a = await cpuSeconds(pillar.pid!);
      await sleep(5000);
      console.error(`idle: pillar ${((((await cpuSeconds(pillar.pid!)) - a) / 5) * 100).toFixed(1)} %`);
    }
    const lat: number[] = [];
    for (let i = 0; i < presses; i++) {
      await page.evaluate(() => ((window as any).pillarConsole.stats.firstFrameAt = null));
      const t0 = Date.now();
      await pillar.click(40);
      // the officer's Answer claims the call (issue 12); clicked as soon as it can be
      await page.locator(".card.alarm button.answer:enabled").click({ timeout: 20_000 });
      const first = await waitFor(
        () => page.evaluate(() => (window as any).pillarConsole.stats.firstFrameAt as number | null),
        "first frame",
        20_000,
      );
      lat.push(first - t0);
      if (i < presses - 1) {
        await closeIncident();
        await sleep(300);
      }
    }
    lat.sort((a, b) => a - b);

    if (process.env.BENCH_CALL_PROFILE) {
      const pp = pillar.pid!;
      const a = await cpuSeconds(pp);
      await sleep(5000);
      console.error(`video only (not answered): pillar ${((((await cpuSeconds(pp)) - a) / 5) * 100).toFixed(1)} %`);
    }
    // The last call is answered (two-way audio): let it settle, then measure 10 s of streaming.
    await waitFor(
      async () => ((await pillar.http("GET", "/call")).session as { state: string } | null)?.state === "answered",
      "answered",
      10_000,
    );
    await sleep(2000);
    const cameraPid = (await pillar.http("GET", "/call")).camera.pid as number;
    const pillarPid = pillar.pid!;
    const [p0, c0] = [await cpuSeconds(pillarPid), await cpuSeconds(cameraPid)];
    await sleep(10_000);
    const [p1, c1] = [await cpuSeconds(pillarPid), await cpuSeconds(cameraPid)];
    const rss = await rssMb(pillarPid);
    const frames = await page.evaluate(() => (window as any).pillarConsole.stats.frames as number);
    if (frames < 100) throw new Error(`the page decoded only ${frames} frames`);
    return {
      press_to_first_frame_ms: round(percentile(lat, 50), 0),
      press_to_first_frame_max_ms: round(lat.at(-1)!, 0),
      stream_cpu_ratio_to_encoder: round((p1 - p0) / (c1 - c0), 3),
      stream_pillar_cpu_pct: round(((p1 - p0) / 10) * 100, 1),
      stream_encoder_cpu_pct: round(((c1 - c0) / 10) * 100, 1),
      stream_rss_mb: round(rss, 1),
    };
  } finally {
    await chrome?.stop();
    await console_?.stop();
    await center.endAsync(true);
    await pillar.kill("SIGTERM");
    await mosq.dispose();
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(JSON.stringify(await runCallBench()));
  process.exit(0);
}
