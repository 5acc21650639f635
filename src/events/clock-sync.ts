import { access } from "node:fs/promises";
import { execFile } from "node:child_process";

/**
 * Whether the system clock is synchronised (NTP/GNSS). Read off the press path: the answer is
 * cached and refreshed in the background, so stamping an event costs nothing.
 * systemd-timesyncd creates /run/systemd/timesync/synchronized once synced; otherwise
 * `timedatectl show -p NTPSynchronized` (chrony and others report through it too).
 */
export class ClockSyncProbe {
  private synced = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly periodMs = 60_000) {}

  isSynced(): boolean {
    return this.synced;
  }

  async start(): Promise<void> {
    await this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.periodMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
  }

  async refresh(): Promise<boolean> {
    this.synced = (await fileExists("/run/systemd/timesync/synchronized")) || (await timedatectlSynced());
    return this.synced;
  }
}

async function fileExists(p: string): Promise<boolean> {
  try {
    await access(p);
    return true;
  } catch {
    return false;
  }
}

function timedatectlSynced(): Promise<boolean> {
  return new Promise((resolve) => {
    execFile("timedatectl", ["show", "-p", "NTPSynchronized", "--value"], { timeout: 2000 }, (err, out) => {
      resolve(!err && out.trim() === "yes");
    });
  });
}
