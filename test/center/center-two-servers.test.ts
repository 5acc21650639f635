import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestCenter } from "../support/center.js";
import { addOfficer, ConsoleProcess } from "../support/console-process.js";
import { TestMosquitto } from "../support/mosquitto.js";
import { TestPostgresDatabase } from "../support/postgres.js";
import { SimPillar } from "../support/sim-pillar.js";
import { waitFor } from "../support/wait.js";

describe("two console servers on one PostgreSQL log (docs/center.md, several console servers)", () => {
  const broker = new TestMosquitto();
  const postgres = new TestPostgresDatabase();
  const pillar = new SimPillar({
    pillar: { id: "ala-zhetysu-0004" },
    location: { lat: 43.28, lon: 76.94, address: "Rayimbek Ave 300", district: "Zhetysu" },
  });
  let observer: TestCenter;
  const servers: ConsoleProcess[] = [];
  let dir = "";

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "center-two-"));
    const db = (await postgres.create()).url;
    await addOfficer(db, "bolat", "officer", "bolat-pass-1");
    await broker.start();
    for (const name of ["room-a", "room-b"]) {
      const config = join(dir, `${name}.json`);
      await writeFile(config, JSON.stringify({ mqttClientId: `console-${name}` }));
      servers.push(new ConsoleProcess(["--broker", broker.url, "--port", "0", "--db", db, "--config", config]));
    }
    for (const s of servers) await s.start();
    observer = await new TestCenter(broker.url).start();
    await pillar.start(broker.url);
  }, 90_000);

  afterAll(async () => {
    await pillar.dispose();
    await observer?.stop();
    for (const s of servers) await s.kill();
    await broker.dispose();
    await postgres.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("share officers' sessions and one history with every event once; one server down, the other keeps the log", async () => {
    const [a, b] = servers as [ConsoleProcess, ConsoleProcess];
    const cookie = await a.login("bolat", "bolat-pass-1");
    expect(await b.api("/api/me", cookie)).toEqual({ id: "bolat", name: "bolat", role: "officer" }); // a session from A works on B

    await pillar.click();
    await observer.until(() => observer.events("button.press").length === 1, "the press");
    const incidentId = observer.events("button.press")[0]!.incidentId as string;
    const ack = await a.post("/api/publish", cookie, {
      topic: `pillar/v1/${pillar.config.pillar.id}/cmd/incident.ack`,
      payload: { correlationId: `ack-${Date.now()}`, incidentId },
    });
    expect(ack.status).toBe(200);
    await observer.until(() => observer.events("incident.acknowledged").length === 1, "the acknowledgement");

    // Both servers received every event and stored it; the log has each once, read from either.
    const timelineOn = async (s: ConsoleProcess) =>
      ((await s.api(`/api/history/${incidentId}`, cookie)).timeline as { source: string; what: string }[]).filter(
        (t) => t.source === "event",
      );
    for (const s of [a, b])
      await waitFor(
        async () => (await timelineOn(s)).some((t) => t.what === "incident.acknowledged"),
        "the acknowledgement in the log",
      );
    const sent = new Set(observer.events().map((e) => e.eventId)).size;
    expect((await timelineOn(a)).length).toBe(sent);
    expect((await timelineOn(b)).length).toBe(sent);
    const [summary] = (await b.api("/api/history?closed=any", cookie)).incidents;
    expect(summary).toMatchObject({ incidentId, acknowledgedBy: "bolat", presses: 1 });

    // Room A's server goes down: a repeat press still reaches the log through room B's.
    await a.kill("SIGKILL");
    await pillar.click();
    await waitFor(async () => {
      const [i] = (await b.api("/api/history?closed=any", cookie)).incidents;
      return i?.presses === 2;
    }, "the second press in the history through room B");
  });
});
