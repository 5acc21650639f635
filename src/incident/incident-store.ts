import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "pino";
import type { IncidentState } from "../bus/events.js";
import { atomicWriteFile } from "../fsutil/atomic-write.js";

/** What survives a restart of an open incident. */
export interface PersistedIncident {
  state: IncidentState;
  incidentId: string | null;
  openedAt: number;
  presses: number;
  acknowledgedBy: string | null;
  acknowledgedAt: number;
  /** Opened by a press the self-test asked for. */
  test?: boolean;
}

/**
 * Keeps the open incident in `dataDir/incident.json` (written atomically, latest state wins), so
 * a pillar that reboots mid-alarm still shows the alarm and still accepts the center's
 * acknowledgement for it. Saving never blocks the press path.
 */
export class IncidentStore {
  private readonly path: string;
  private pending: PersistedIncident | undefined;
  private writing: Promise<void> | undefined;

  constructor(private readonly o: { dir: string; log: Logger }) {
    this.path = join(o.dir, "incident.json");
  }

  async load(): Promise<PersistedIncident | null> {
    try {
      const doc = JSON.parse(await readFile(this.path, "utf8")) as PersistedIncident;
      if (!["idle", "alarm", "acknowledged"].includes(doc.state) || typeof doc.presses !== "number")
        throw new Error("unexpected content");
      return doc;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT")
        this.o.log.warn({ err: (err as Error).message }, "incident state unreadable; starting idle");
      return null;
    }
  }

  save(s: PersistedIncident): void {
    this.pending = s;
    this.writing ??= this.flush();
  }

  private async flush(): Promise<void> {
    while (this.pending) {
      const s = this.pending;
      this.pending = undefined;
      try {
        await atomicWriteFile(this.path, JSON.stringify(s));
      } catch (err) {
        this.o.log.error({ err }, "could not save incident state");
      }
    }
    this.writing = undefined;
  }

  /** Wait for the last save. */
  async settle(): Promise<void> {
    await this.writing;
  }
}
