import { chromium, type Browser, type BrowserServer } from "playwright-core";
import { stopPid } from "./processes.js";

/** The brief's flags for every Chromium a test starts. */
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--no-first-run",
  "--disable-sync",
];

/** Added for WebRTC pages (the officer's side of a call): loopback ICE, fake camera and microphone. */
export const WEBRTC_ARGS = [
  "--allow-loopback-in-peer-connection",
  "--use-fake-ui-for-media-stream",
  "--use-fake-device-for-media-stream",
];

export interface RunningChromium {
  browser: Browser;
  pid: number;
  stop(): Promise<void>;
}

/**
 * Headless Debian Chromium through playwright-core, stopped by pid. `webrtc` (default true) adds
 * WEBRTC_ARGS; `fakeAudioWav` is what its fake microphone says (the officer).
 */
export async function startChromium(o: { fakeAudioWav?: string; webrtc?: boolean } = {}): Promise<RunningChromium> {
  const args = [...CHROMIUM_ARGS, ...(o.webrtc === false ? [] : WEBRTC_ARGS)];
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
