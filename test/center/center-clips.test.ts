import { createHash } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningChromium, startChromium } from "../support/chromium.js";
import { addOfficer, ConsoleProcess } from "../support/console-process.js";
import { waitFor } from "../support/wait.js";
import { RecordRig } from "../recording/helpers/record-rig.js";

/** The center's clip storage: takes a PUT (no resume needed here), checks the clip's sha256, serves GET. */
function clipStorage() {
  const files = new Map<string, { body: Buffer; authorization: string | undefined }>();
  const server: Server = createServer((req, res) => {
    if (req.method === "HEAD") return void res.writeHead(404).end();
    if (req.method === "GET") {
      const f = files.get(req.url!);
      return void (f ? res.writeHead(200, { "content-type": "video/mp4" }).end(f.body) : res.writeHead(404).end());
    }
    const chunks: Buffer[] = [];
    req.on("data", (d: Buffer) => chunks.push(d));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const ok = createHash("sha256").update(body).digest("hex") === req.headers["x-clip-sha256"];
      if (ok) files.set(req.url!, { body, authorization: req.headers.authorization });
      res.writeHead(ok ? 201 : 422).end();
    });
  });
  return { server, files };
}

describe("the incident's clip in the history", () => {
  const rig = new RecordRig({ postRollS: 1 });
  const storage = clipStorage();
  let consoleServer: ConsoleProcess;
  let chrome: RunningChromium;
  let dir = "";
  let storageUrl = "";

  beforeAll(async () => {
    await rig.start();
    await new Promise<void>((r) => storage.server.listen(0, "127.0.0.1", () => r()));
    storageUrl = `http://127.0.0.1:${(storage.server.address() as AddressInfo).port}`;
    dir = await mkdtemp(join(tmpdir(), "center-clips-"));
    const db = join(dir, "center.db");
    await addOfficer(db, "aigerim", "supervisor", "aigerim-pass-1");
    const config = join(dir, "console.json");
    await writeFile(
      config,
      JSON.stringify({
        clipUploadUrl: `${storageUrl}/clips/{pillarId}/{clipId}.mp4`,
        clipUploadHeaders: { Authorization: "Bearer storage-token" },
      }),
    );
    consoleServer = new ConsoleProcess(["--broker", rig.mosq.url, "--port", "0", "--db", db, "--config", config]);
    await consoleServer.start();
    chrome = await startChromium({ webrtc: false });
    await rig.preRollFilled(1000);
  }, 120_000);

  afterAll(async () => {
    await chrome?.stop();
    await consoleServer?.kill();
    await rig.stop();
    storage.server.closeAllConnections();
    await new Promise((r) => storage.server.close(r));
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("lists the clip the pillar recorded, uploads it to the center's storage on request and links it", async () => {
    const cookie = await consoleServer.login("aigerim", "aigerim-pass-1");
    await rig.pillar.click();
    const incident = await waitFor(async () => {
      const { incidents } = await consoleServer.api("/api/history?closed=any", cookie);
      return incidents[0] as { incidentId: string; pillarId: string } | undefined;
    }, "the alarm in the history");
    const cmd = (name: string, args: object) =>
      consoleServer.post("/api/publish", cookie, {
        topic: `pillar/v1/${rig.pillarId}/cmd/${name}`,
        payload: { correlationId: `${name}-${Date.now()}`, incidentId: incident.incidentId, ...args },
      });
    expect((await cmd("incident.ack", {})).status).toBe(200);
    await waitFor(async () => (await rig.state()).incident?.state === "acknowledged", "acknowledged", 20_000);
    expect((await cmd("incident.close", { reason: "test" })).status).toBe(200);
    const onPillar = await waitFor(
      async () => {
        const clips = (await rig.recording()).clips as {
          id: string;
          incidentId: string;
          state: string;
          sha256: string;
        }[];
        return clips.find((c) => c.incidentId === incident.incidentId && c.state === "complete");
      },
      "the incident's clip complete on the pillar",
      40_000,
      200,
    );

    // The officer in the history: the incident, "ask the pillar", the clip, "upload", the link.
    const context = await chrome.browser.newContext();
    const page = await context.newPage();
    await page.goto(`${consoleServer.url}login?next=/history`);
    await page.fill("#user", "aigerim");
    await page.fill("#password", "aigerim-pass-1");
    await Promise.all([page.waitForURL(/\/history$/), page.click("#submit")]);
    await page.click(`tr.incident[data-id="${incident.incidentId}"]`);
    await page.click("button.clip-ask");
    const item = page.locator(`li.clip[data-clip-id="${onPillar.id}"]`);
    await item.waitFor({ timeout: 30_000 });
    expect(await item.locator(".clip-where").textContent()).toContain(`on pillar ${rig.pillarId}: recordings/`);
    await item.locator("button.clip-upload").click();
    const link = page.locator(`li.clip[data-clip-id="${onPillar.id}"] a.clip-link`);
    await link.waitFor({ timeout: 60_000 });
    const expected = `${storageUrl}/clips/${rig.pillarId}/${onPillar.id}.mp4`;
    expect(await link.getAttribute("href")).toBe(expected);

    // The storage has the pillar's clip, byte for byte, sent with the configured header.
    const stored = storage.files.get(new URL(expected).pathname)!;
    expect(createHash("sha256").update(stored.body).digest("hex")).toBe(onPillar.sha256);
    expect(stored.authorization).toBe("Bearer storage-token");
    const { clips } = await consoleServer.api(`/api/history/${incident.incidentId}/clips`, cookie);
    expect(clips).toEqual([
      expect.objectContaining({ clipId: onPillar.id, sha256: onPillar.sha256, uploadUrl: expected, uploadError: null }),
    ]);
    // Asking was done as the officer, in the incident's timeline; the storage token is not in the log.
    const { timeline } = await consoleServer.api(`/api/history/${incident.incidentId}`, cookie);
    expect(timeline).toEqual(
      expect.arrayContaining([expect.objectContaining({ source: "command", what: "clips.list", by: "aigerim" })]),
    );
    expect(JSON.stringify(timeline)).not.toContain("storage-token");
    await context.close();
  });
});
