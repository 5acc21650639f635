import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt from "mqtt";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningChromium, startChromium } from "../support/chromium.js";
import { addOfficer, ConsoleProcess } from "../support/console-process.js";
import { TestMosquitto } from "../support/mosquitto.js";
import { TestPostgresDatabase } from "../support/postgres.js";
import { SimPillar } from "../support/sim-pillar.js";
import { waitFor } from "../support/wait.js";

/** What the page shows of one incident's card: the press time as written, and the store's. */
interface CardView {
  pressedAt: string;
  presses: number;
  dateText: string;
}

describe("open incidents are known to every console that starts, restarts or reconnects", () => {
  const broker = new TestMosquitto();
  const started: ConsoleProcess[] = [];
  const pillars: SimPillar[] = [];
  const pgDbs: TestPostgresDatabase[] = [];
  let chrome: RunningChromium;
  let dir = "";

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "center-open-"));
    await broker.start();
    chrome = await startChromium();
  }, 90_000);

  afterAll(async () => {
    await chrome?.stop();
    for (const c of started) await c.kill();
    for (const p of pillars) await p.dispose();
    for (const d of pgDbs) await d.drop();
    await broker.dispose();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const pillar = async (id: string) => {
    const p = new SimPillar({
      pillar: { id },
      location: { lat: 43.2389, lon: 76.9455, address: "Abylai Khan Ave 52", district: "Medeu" },
    });
    pillars.push(await p.start(broker.url));
    await waitFor(() => p.app.core.uplink.isConnected(), "pillar connected");
    return p;
  };

  /** A console server (a child process) on `db` (none: the open demo console) with its own session id. */
  const consoleOn = async (db: string | null, name: string) => {
    const config = join(dir, `${name}.json`);
    await writeFile(config, JSON.stringify({ mqttClientId: `open-incidents-${name}` }));
    const c = new ConsoleProcess([
      ...["--broker", broker.url, "--port", "0", "--config", config],
      ...(db ? ["--db", db] : []),
    ]);
    started.push(await c.start());
    return c;
  };

  /** A page of `c`, logged in as bolat when the console has accounts, showing `incidentId`'s card. */
  const cardOn = async (c: ConsoleProcess, incidentId: string, accounts: boolean): Promise<[Page, CardView]> => {
    const context = await chrome.browser.newContext({ locale: "en-GB" });
    if (accounts) {
      const [name, value] = (await c.login("bolat", "bolat-pass-1")).split("=") as [string, string];
      await context.addCookies([{ name, value, url: c.url }]);
    }
    const page = await context.newPage();
    await page.goto(c.url);
    return [page, await cardView(page, incidentId)];
  };

  const cardView = async (page: Page, incidentId: string, presses = 1): Promise<CardView> => {
    const card = page.locator(`.queue article[data-incident="${incidentId}"]`);
    await card.waitFor({ timeout: 30_000 });
    await waitFor(
      () =>
        page.evaluate(([id, n]) => (window as any).pillarConsole.store.incidents.get(id)?.presses >= n, [
          incidentId,
          presses,
        ] as const),
      `${presses} presses on the card`,
    );
    const store = await page.evaluate(
      (id) => (window as any).pillarConsole.store.incidents.get(id) as { pressedAt: string; presses: number },
      incidentId,
    );
    return {
      pressedAt: store.pressedAt,
      presses: store.presses,
      dateText: (await card.locator("time.date").textContent()) ?? "",
    };
  };

  /** Removes the pillar's retained incident state: a console started now can learn of the alarm only from its log. */
  const forgetRetained = async (pillarId: string) => {
    const c = await mqtt.connectAsync(broker.url, { protocolVersion: 4 });
    await c.publishAsync(`pillar/v1/${pillarId}/incident`, "", { qos: 1, retain: true });
    await c.endAsync();
  };

  /** Waits until `c`'s log holds `presses` presses of the incident (so a SIGKILL now loses nothing). */
  const logged = async (c: ConsoleProcess, incidentId: string, presses: number) => {
    const cookie = await c.login("bolat", "bolat-pass-1");
    return await waitFor(async () => {
      const r = (await c.api(`/api/history/${incidentId}`, cookie).catch(() => null)) as {
        incident?: { openedAt: string; presses: number };
      } | null;
      const s = r?.incident;
      return s && s.presses >= presses ? s : null;
    }, `$pressespresses in the log`);
  };

  const engines: [string, () => Promise<string>][] = [
    ["SQLite", async () => join(await mkdtemp(join(dir, "db-")), "center.db")],
    [
      "PostgreSQL",
      async () => {
        const d = new TestPostgresDatabase();
        pgDbs.push(d);
        return (await d.create()).url;
      },
    ],
  ];

  for (const [engine, makeDb] of engines) {
    it(`${engine}: a console killed and started again, and one on an empty database started after the press, show the alarm from its first press`, async () => {
      const tag = engine === "SQLite" ? "sq" : "pg";
      const [dbA, dbB] = [await makeDb(), await makeDb()];
      for (const db of [dbA, dbB]) await addOfficer(db, "bolat", "officer", "bolat-pass-1");
      const p = await pillar(`ala-open-${tag}`);
      let a = await consoleOn(dbA, `${tag}-a`);

      await p.click();
      const first = p.app.core.incidents.snapshot();
      const incidentId = first.incidentId!;
      const [pageA, before] = await cardOn(a, incidentId, true);
      expect(before.pressedAt).toBe(first.openedAt);
      await logged(a, incidentId, 1);

      // A console on an empty database, started after the press: from the pillar's retained state.
      const b = await consoleOn(dbB, `${tag}-b`);
      const [pageB, onB] = await cardOn(b, incidentId, true);
      expect(onB).toEqual(before);

      // SIGKILL (a crash: the server process itself, not a wrapper) and start again; with the
      // pillar's retained state gone, the open alarm can come only from the log.
      await a.kill("SIGKILL");
      await forgetRetained(p.config.pillar.id);
      a = await consoleOn(dbA, `${tag}-a`);
      const [pageA2, afterRestart] = await cardOn(a, incidentId, true);
      expect(afterRestart).toEqual(before);
      await pageA.context().close();

      // A later press: every console still counts from the first, also B, whose log never saw it.
      await p.click();
      expect(await cardView(pageA2, incidentId, 2)).toEqual({ ...before, presses: 2 });
      expect(await cardView(pageB, incidentId, 2)).toEqual({ ...before, presses: 2 });
      expect((await logged(b, incidentId, 2)).openedAt).toBe(first.openedAt); // B's history too
      for (const page of [pageA2, pageB]) await page.context().close();
    }, 180_000);
  }

  it("without a database: a console started after the press shows the open alarm (from the pillar)", async () => {
    const p = await pillar("ala-open-nodb");
    await p.click();
    const first = p.app.core.incidents.snapshot();
    await p.click();
    await waitFor(() => p.app.core.incidents.snapshot().presses === 2, "two presses");
    const c = await consoleOn(null, "nodb");
    const [page, view] = await cardOn(c, first.incidentId!, false);
    expect(view).toMatchObject({ pressedAt: first.openedAt, presses: 2 });
    await page.context().close();
  }, 90_000);
});
