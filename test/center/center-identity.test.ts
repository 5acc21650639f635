import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestCenter } from "../support/center.js";
import { type RunningChromium, startChromium } from "../support/chromium.js";
import { addOfficer, ConsoleProcess, pageFetch } from "../support/console-process.js";
import { TestMosquitto } from "../support/mosquitto.js";
import { SimPillar } from "../support/sim-pillar.js";
import { waitFor } from "../support/wait.js";

const PILLAR = "ala-ident-0001";

describe("identity is the server's: the logged-in officer on every message and log row", () => {
  const broker = new TestMosquitto();
  const pillar = new SimPillar({
    pillar: { id: PILLAR },
    location: { lat: 43.2389, lon: 76.9455, address: "Abylai Khan Ave 52", district: "Medeu" },
  });
  let center: TestCenter;
  let consoleServer: ConsoleProcess;
  let chrome: RunningChromium;
  let dir = "";

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "center-ident-"));
    const db = join(dir, "center.db");
    await addOfficer(db, "bolat", "officer", "bolat-pass-1");
    await broker.start();
    consoleServer = await new ConsoleProcess(["--broker", broker.url, "--port", "0", "--db", db]).start();
    center = await new TestCenter(broker.url).start();
    await pillar.start(broker.url);
    chrome = await startChromium();
  }, 90_000);

  afterAll(async () => {
    await chrome?.stop();
    await pillar.dispose();
    await center?.stop();
    await consoleServer?.kill();
    await broker.dispose();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("header, signaling, ack, close and the log say bolat whatever the page claims; correlation ids are the server's", async () => {
    const context = await chrome.browser.newContext({ locale: "en-GB" });
    const [name, value] = (await consoleServer.login("bolat", "bolat-pass-1")).split("=") as [string, string];
    await context.addCookies([{ name, value, url: consoleServer.url }]);
    const page = await context.newPage();
    await page.goto(`${consoleServer.url}?officer=aigerim`);
    expect((await pageFetch(page, "/api/config")).json.officer).toEqual({
      id: "bolat",
      name: "bolat",
      role: "officer",
    });
    await waitFor(async () => (await page.textContent("header .who"))?.includes("bolat"), "bolat in the header");
    expect(await page.evaluate(() => (window as any).pillarConsole.me)).toBe("bolat");

    await pillar.click();
    const incidentId = pillar.app.core.incidents.snapshot().incidentId!;
    const card = page.locator(`.queue article[data-incident="${incidentId}"]`);
    await card.waitFor({ timeout: 30_000 });

    // A page that names someone else in its signaling is stamped bolat.
    const sent = (suffix: string) => center.received.filter((r) => r.topic === `pillar/v1/${PILLAR}/${suffix}`);
    const lookIn = { officer: "aigerim", kind: "lookin", callToken: "forged-token-forged-token" };
    expect(
      (await pageFetch(page, "/api/publish", { topic: `pillar/v1/${PILLAR}/webrtc/request`, payload: lookIn })).status,
    ).toBe(200);
    await center.until(() => sent("webrtc/request").length === 1, "the request");
    expect(sent("webrtc/request")[0]!.payload.officer).toBe("bolat");

    // Two commands with one page-made correlation id: the server makes each its own, both logged.
    const ack = {
      topic: `pillar/v1/${PILLAR}/cmd/incident.ack`,
      payload: { correlationId: "same-1", incidentId, operator: "aigerim" },
    };
    const first = await pageFetch(page, "/api/publish", ack);
    const second = await pageFetch(page, "/api/publish", ack);
    expect(first.json.correlationId).toMatch(/^incident\.ack-[0-9a-f-]{36}$/);
    expect(second.json.correlationId).not.toBe(first.json.correlationId);
    await center.until(() => sent("cmd/incident.ack").length === 2, "two acknowledgements");
    expect(sent("cmd/incident.ack").map((r) => [r.payload.correlationId, r.payload.operator])).toEqual([
      [first.json.correlationId, "bolat"],
      [second.json.correlationId, "bolat"],
    ]);
    await card.locator("button.close").waitFor({ timeout: 15_000 });
    await card.locator("button.close").click();
    await card.waitFor({ state: "detached", timeout: 15_000 });

    // Every row of the incident's log that names an officer names bolat: both acks, the close, the pillar's ack event.
    const timeline = await waitFor(async () => {
      const t = (await pageFetch(page, `/api/history/${incidentId}`)).json?.timeline as
        | { source: string; what: string; by: string | null }[]
        | undefined;
      return t?.some((e) => e.what === "incident.closed") ? t : null;
    }, "the close in the log");
    const named = timeline.filter((e) => e.by !== null);
    expect(named.map((e) => `${e.source}:${e.what}`).sort()).toEqual(
      ["command:incident.ack", "command:incident.ack", "command:incident.close", "event:incident.acknowledged"].sort(),
    );
    expect(new Set(named.map((e) => e.by))).toEqual(new Set(["bolat"]));
    await context.close();
  }, 120_000);
});
