import { execFile } from "node:child_process";
import { createServer, request, type Server } from "node:http";
import { promisify } from "node:util";
import type { AddressInfo } from "node:net";
import mqtt, { type MqttClient } from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConsoleConfig } from "../../center/server/console-config.js";
import { ConsoleServer } from "../../center/server/console-server.js";
import { capturingLog, ConsoleRig, incidentOf, SITES } from "./helpers/console-rig.js";

const XSS = "<img src=x onerror=window.__pwned=1>";
/** ffmpeg making a small real JPEG on stdout (a press snapshot). */
const JPEG_ARGS = [
  "-v",
  "error",
  "-f",
  "lavfi",
  "-i",
  "testsrc2=size=64x36",
  "-frames:v",
  "1",
  "-f",
  "mjpeg",
  "pipe:1",
];
const XSS_ATTR = '"><img src=x onerror=window.__pwned=2>';

/** An HTTP request with a Host header of our choosing (a DNS-rebinding page's). */
function rawPost(url: string, headers: Record<string, string>, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: "POST", headers }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("error", reject);
    req.end(body);
  });
}

describe("console security: pillar payloads never run, cross-site posts change nothing, deep JSON is survived", () => {
  const rig = new ConsoleRig();
  let evil: MqttClient;
  let attacker: Server;
  let second: ConsoleServer | undefined;
  const secondLog = capturingLog();

  beforeAll(async () => {
    await rig.start();
    evil = await mqtt.connectAsync(rig.mosq.url, { clientId: "evil", protocolVersion: 4 });
    // a web page on another origin that the officer happens to open
    attacker = createServer((_req, res) => {
      res.writeHead(200, { "content-type": "text/html" });
      res.end("<!doctype html><title>cats</title><p>cats</p>");
    });
    await new Promise<void>((r) => attacker.listen(0, "127.0.0.1", () => r()));
  });
  afterAll(async () => {
    await second?.stop();
    await evil?.endAsync(true);
    await new Promise((r) => attacker?.close(r));
    await rig.stop();
  });

  it("retained statuses with markup run nothing, a 10,000-level status is refused and logged, the console runs on", async () => {
    const retain = (id: string, payload: string) =>
      evil.publishAsync(`pillar/v1/${id}/status`, payload, { qos: 1, retain: true });
    await retain("evil-001", JSON.stringify({ state: XSS }));
    await retain("evil-002", JSON.stringify({ state: XSS_ATTR }));
    const deep = `${"[".repeat(10_000)}${"]".repeat(10_000)}`;
    await retain("evil-003", `{"state":${deep}}`);
    // and one under a pillar's event topic, within its size bound: refused for its depth
    await evil.publishAsync("pillar/v1/evil-003/event", `{"type":"button.press","data":${deep}}`, { qos: 1 });
    // valid by the schema, but with markup where text is allowed: must show as text
    const at = new Date().toISOString();
    const location = { lat: 43.25, lon: 76.95, address: XSS_ATTR, district: XSS };
    await retain(
      "evil-004",
      JSON.stringify({ state: "online", pillarId: "evil-004", version: XSS, startedAt: at, uptimeS: 1, at, location }),
    );
    // a console that starts now gets all of them as retained messages at subscribe
    second = new ConsoleServer({
      brokerUrl: rig.mosq.url,
      port: 0,
      config: parseConsoleConfig({}),
      log: secondLog.log,
    });
    await second.start();
    const context = await rig.chrome.browser.newContext({ viewport: { width: 1366, height: 768 } });
    const page = await context.newPage();
    const dialogs: string[] = [];
    page.on("dialog", (d) => (dialogs.push(d.message()), void d.dismiss()));
    await page.goto(second.url);
    const row = page.locator('.fleet tr[data-pillar="evil-004"]');
    await row.waitFor({ timeout: 15_000 });
    expect(await row.locator(".name").getAttribute("title")).toBe(XSS_ATTR);
    expect(await row.textContent()).toContain(XSS); // the district and version, as text
    await page.locator('.pillar-marker [data-pillar="evil-004"]').waitFor({ timeout: 5000 });
    expect(await page.locator('.fleet tr[data-pillar^="evil-00"]').count()).toBe(1); // the three invalid ones refused
    expect(await page.locator('img[src="x"]').count()).toBe(0);
    expect(await page.evaluate(() => (window as any).__pwned ?? null)).toBeNull();
    expect(dialogs).toEqual([]);
    const refused = secondLog.lines.filter((l) => l.msg === "pillar message refused").map((l) => l.topic);
    expect(refused).toEqual(
      expect.arrayContaining(["pillar/v1/evil-001/status", "pillar/v1/evil-002/status", "pillar/v1/evil-003/status"]),
    );
    expect(secondLog.lines.find((l) => l.topic === "pillar/v1/evil-003/status")?.err).toMatch(/more than the limit/);
    await expect
      .poll(() => rig.logs.lines.find((l) => l.topic === "pillar/v1/evil-003/event")?.err)
      .toMatch(/nested deeper than 6 levels/);
    // still serving, still bridging: a press still reaches a page
    expect((await fetch(new URL("/api/config", second.url))).status).toBe(200);
    const alm = rig.pillar(SITES[1]!.id);
    await alm.click();
    const card = page.locator(".card.alarm");
    await card.waitFor({ timeout: 10_000 });
    // a press snapshot is shown as a picture; one whose "JPEG" is markup is refused
    const snap = (jpeg: string) =>
      evil.publishAsync(
        `pillar/v1/${SITES[1]!.id}/snapshot`,
        JSON.stringify({
          v: 1,
          pillarId: SITES[1]!.id,
          incidentId: incidentOf(alm).incidentId,
          pressAt: at,
          frameAt: at,
          mime: "image/jpeg",
          bytes: jpeg.length,
          jpeg,
        }),
        { qos: 1 },
      );
    await snap(`/9j/"><img src=x onerror=window.__pwned=3>`);
    const jpeg = (await promisify(execFile)("ffmpeg", JPEG_ARGS, { encoding: "buffer" })).stdout.toString("base64");
    await snap(jpeg);
    await expect
      .poll(() => card.locator("img.still").getAttribute("src"), { timeout: 10_000 })
      .toBe(`data:image/jpeg;base64,${jpeg}`);
    expect(await page.locator('img[src="x"]').count()).toBe(0);
    expect(await page.evaluate(() => (window as any).__pwned ?? null)).toBeNull();
    expect(secondLog.lines.find((l) => l.topic === `pillar/v1/${SITES[1]!.id}/snapshot`)?.err).toMatch(/jpeg/);
    await context.close();
    for (const id of ["evil-001", "evil-002", "evil-003", "evil-004"]) await retain(id, "");
  });

  it("a cross-site text/plain POST, a form post and a DNS-rebinding request change nothing", async () => {
    const alm = rig.pillar(SITES[1]!.id);
    const incidentId = incidentOf(alm).incidentId!;
    expect(incidentOf(alm).state).toBe("alarm");
    const body = JSON.stringify({
      topic: `pillar/v1/${SITES[1]!.id}/cmd/incident.ack`,
      payload: { correlationId: "evil-ack", incidentId, operator: "mallory" },
    });
    const api = new URL("/api/publish", rig.console.url).href;
    // from a real page on another origin, in the officer's browser
    const context = await rig.chrome.browser.newContext();
    const page = await context.newPage();
    await page.goto(`http://127.0.0.1:${(attacker.address() as AddressInfo).port}/`);
    await page.evaluate(
      async ({ api, body }) => {
        await fetch(api, { method: "POST", mode: "no-cors", headers: { "content-type": "text/plain" }, body }).catch(
          () => undefined,
        );
        const f = document.createElement("form");
        f.method = "POST";
        f.action = api;
        f.enctype = "text/plain";
        const i = document.createElement("input");
        i.name = body.slice(0, -2);
        i.value = '"}';
        f.append(i);
        document.body.append(f);
        f.submit();
      },
      { api, body },
    );
    await page.waitForURL(api, { timeout: 10_000 });
    expect(await page.locator("body").textContent()).toContain("may not change anything here");
    await context.close();
    // without a browser: wrong content type; right type but a foreign Origin; a rebinding Host
    const own = new URL(rig.console.url);
    expect(await rawPost(api, { "content-type": "text/plain" }, body)).toBe(403);
    expect(await rawPost(api, { "content-type": "application/json", origin: "http://evil.example" }, body)).toBe(403);
    expect(
      await rawPost(
        api,
        {
          "content-type": "application/json",
          host: `evil.example:${own.port}`,
          origin: `http://evil.example:${own.port}`,
        },
        body,
      ),
    ).toBe(403);
    const refusals = rig.logs.lines.filter((l) => l.msg === "request refused");
    expect(refusals.length).toBeGreaterThanOrEqual(5);
    expect(incidentOf(alm).state).toBe("alarm");
    // the console's own page still may
    expect(
      await rawPost(api, { "content-type": "application/json", origin: `http://${own.host}`, host: own.host }, body),
    ).toBe(200);
    await expect.poll(() => incidentOf(alm).state, { timeout: 10_000 }).toBe("acknowledged");
  });
});
