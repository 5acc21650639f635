import { readFile, rm, writeFile } from "node:fs/promises";
import { request } from "node:https";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningChromium, startChromium } from "../support/chromium.js";
import { addOfficer, ConsoleProcess } from "../support/console-process.js";
import { TestMosquitto } from "../support/mosquitto.js";
import { TestPki } from "../support/test-pki.js";

/** An HTTPS request that trusts only the test CA (the certificate chain and 127.0.0.1 are checked). */
function httpsJson(url: string, ca: Buffer, body?: object): Promise<{ status: number; cookie: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: body ? "POST" : "GET", ca, headers: body ? { "content-type": "application/json" } : {} },
      (res) => {
        res.resume();
        res.on("end", () => resolve({ status: res.statusCode!, cookie: String(res.headers["set-cookie"] ?? "") }));
      },
    );
    req.once("error", reject);
    req.end(body ? JSON.stringify(body) : undefined);
  });
}

describe("the console over HTTPS (a certificate in the console config)", () => {
  const pki = new TestPki();
  const broker = new TestMosquitto();
  let consoleServer: ConsoleProcess;
  let chrome: RunningChromium;
  let ca: Buffer;

  beforeAll(async () => {
    await pki.start();
    ca = await readFile(pki.ca.certPath);
    const cert = await pki.issue("console", { usage: "server", altNames: ["IP:127.0.0.1"] });
    const db = join(pki.dir, "center.db");
    await addOfficer(db, "aigerim", "supervisor", "aigerim-pass-1");
    const config = join(pki.dir, "console.json");
    await writeFile(config, JSON.stringify({ https: { keyFile: cert.keyPath, certFile: cert.certPath } }));
    await broker.start();
    consoleServer = new ConsoleProcess(["--broker", broker.url, "--port", "0", "--db", db, "--config", config]);
    await consoleServer.start();
    chrome = await startChromium({ webrtc: false });
  }, 90_000);

  afterAll(async () => {
    await chrome?.stop();
    await consoleServer?.kill();
    await broker.dispose();
    await pki.dispose();
  });

  it("serves the certificate it was given and sets a Secure session cookie", async () => {
    expect(consoleServer.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/$/);
    const login = await httpsJson(`${consoleServer.url}login`, ca, { user: "aigerim", password: "aigerim-pass-1" });
    expect(login.status).toBe(200);
    expect(login.cookie).toMatch(/^center_session=[^;]+;.*HttpOnly/);
    expect(login.cookie.split("; ")).toContain("Secure");
    // Plain HTTP on the same port gets no page.
    await expect(fetch(consoleServer.url.replace("https:", "http:"))).rejects.toThrow();
  });

  it("a browser logs in over HTTPS and keeps the cookie for HTTPS only", async () => {
    const context = await chrome.browser.newContext({ ignoreHTTPSErrors: true }); // the test CA is not in Chromium's store
    const page = await context.newPage();
    await page.goto(consoleServer.url);
    expect(new URL(page.url()).pathname).toBe("/login");
    await page.fill("#user", "aigerim");
    await page.fill("#password", "aigerim-pass-1");
    await Promise.all([page.waitForURL(consoleServer.url), page.click("#submit")]);
    const [cookie] = await context.cookies();
    expect(cookie).toMatchObject({ name: "center_session", secure: true, httpOnly: true, sameSite: "Strict" });
    const me = await page.evaluate(async () => (await fetch("/api/me")).json());
    expect(me).toEqual({ id: "aigerim", name: "aigerim", role: "supervisor" });
    await context.close();
  });

  it("refuses to start when a certificate file is missing, naming it", async () => {
    const config = join(pki.dir, "bad.json");
    const missing = join(pki.dir, "nowhere.pem");
    await writeFile(config, JSON.stringify({ https: { keyFile: missing, certFile: missing } }));
    const bad = new ConsoleProcess(["--broker", broker.url, "--port", "0", "--config", config]);
    try {
      await expect(bad.start()).rejects.toThrow(/https\.(keyFile|certFile) .*nowhere\.pem/);
    } finally {
      await bad.kill();
      await rm(config, { force: true });
    }
  });
});
