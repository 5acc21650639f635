import { chromium, type Browser, type BrowserServer } from "playwright-core";
import { stopPid } from "./procs.js";

export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--no-first-run",
  "--disable-sync",
  "--allow-loopback-in-peer-connection",
  "--use-fake-ui-for-media-stream",
  "--use-fake-device-for-media-stream",
];

export interface RunningChromium {
  browser: Browser;
  pid: number;
  stop(): Promise<void>;
}

/** Headless Debian Chromium; `fakeAudioWav` is what its fake microphone says (the officer). */
export async function startChromium(o: { fakeAudioWav?: string } = {}): Promise<RunningChromium> {
  const args = [...CHROMIUM_ARGS];
  if (o.fakeAudioWav) args.push(`--use-file-for-fake-audio-capture=${o.fakeAudioWav}`);
  const server: BrowserServer = await chromium.launchServer({
    executablePath: "/usr/bin/chromium",
    args,
    headless: true,
  });
  const pid = server.process().pid!;
  const browser = await chromium.connect(server.wsEndpoint());
  return {
    browser,
    pid,
    async stop() {
      await browser.close().catch(() => undefined);
      await server.close().catch(() => undefined);
      await stopPid(pid);
    },
  };
}
