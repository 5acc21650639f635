import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ClipLog } from "../../center/log/clip-log.js";
import { ClipTap } from "../../center/log/clip-tap.js";
import { LogTap } from "../../center/log/log-tap.js";
import { openSqlDb } from "../../center/log/sql-db.js";
import { SqlIncidentLog } from "../../center/log/sql-incident-log.js";

const A = "ala-medeu-0001";
const B = "ala-medeu-0002";
const CLIP = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";
const listed = (correlationId: string) => ({
  correlationId,
  ok: true,
  at: "2026-12-08T03:00:00.000Z",
  result: {
    clips: [
      {
        id: CLIP,
        incidentId: "inc-1",
        file: "clip.mp4",
        start: "2026-12-08T02:59:00.000Z",
        end: "2026-12-08T02:59:30.000Z",
        bytes: 1000,
        sha256: "a".repeat(64),
        state: "complete",
      },
    ],
  },
});

describe("command results count only from the pillar the command went to", () => {
  let dir = "";
  let log: SqlIncidentLog;
  let clips: ClipLog;
  let taps: { log: LogTap; clips: ClipTap };
  const received = (topic: string, payload: unknown) =>
    Promise.all([taps.log.received(topic, payload), taps.clips.received(topic, payload)]);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "cmd-results-"));
    log = await SqlIncidentLog.open(await openSqlDb(join(dir, "center.db")));
    clips = new ClipLog(log.db);
    taps = { log: new LogTap(log, pino({ level: "silent" })), clips: new ClipTap(clips) };
  });

  afterAll(async () => {
    await log?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("a clips.list answer nobody asked for, or from another pillar, is not stored; the asked one is", async () => {
    // unsolicited: no command of that id
    await received(`pillar/v1/${A}/cmd/clips.list/result`, listed("clips-list-forged"));
    expect(await clips.get(CLIP)).toBeNull();
    // asked of A, answered by B
    await taps.log.published(
      `pillar/v1/${A}/cmd/clips.list`,
      { correlationId: "clips-list-1", incidentId: "inc-1" },
      null,
    );
    await received(`pillar/v1/${B}/cmd/clips.list/result`, listed("clips-list-1"));
    expect(await clips.get(CLIP)).toBeNull();
    expect((await log.timeline("inc-1")).find((t) => t.source === "command")?.detail).toMatchObject({ result: null });
    // answered by A
    await received(`pillar/v1/${A}/cmd/clips.list/result`, listed("clips-list-1"));
    expect(await clips.get(CLIP)).toMatchObject({ clipId: CLIP, pillarId: A, incidentId: "inc-1" });
    expect((await log.timeline("inc-1")).find((t) => t.source === "command")?.detail).toMatchObject({ result: true });
  });

  it("an incident.ack result from another pillar, or under another command's name, is not recorded", async () => {
    await taps.log.published(`pillar/v1/${A}/cmd/incident.ack`, { correlationId: "ack-1", incidentId: "inc-2" }, null);
    const answer = {
      correlationId: "ack-1",
      ok: false,
      error: { code: "forged", message: "x" },
      at: "2026-12-08T03:00:00.000Z",
    };
    await received(`pillar/v1/${B}/cmd/incident.ack/result`, answer);
    await received(`pillar/v1/${A}/cmd/incident.close/result`, answer);
    const command = () => log.timeline("inc-2").then((t) => t.find((e) => e.source === "command")?.detail);
    expect(await command()).toMatchObject({ result: null });
    await received(`pillar/v1/${A}/cmd/incident.ack/result`, { ...answer, ok: true, error: undefined });
    expect(await command()).toMatchObject({ result: true });
  });

  it("a clips.upload answer counts only from the pillar asked to upload", async () => {
    const correlationId = `upload-${CLIP}-abc123`;
    await taps.log.published(
      `pillar/v1/${A}/cmd/clips.upload`,
      { correlationId, clipId: CLIP, url: "https://s/x" },
      null,
    );
    await clips.uploadRequested(CLIP, "https://s/x", "2026-12-08T03:01:00.000Z");
    const answer = { correlationId, ok: true, at: "2026-12-08T03:02:00.000Z" };
    await received(`pillar/v1/${B}/cmd/clips.upload/result`, answer);
    expect((await clips.get(CLIP))?.uploadedAt).toBeNull();
    await received(`pillar/v1/${A}/cmd/clips.upload/result`, answer);
    expect((await clips.get(CLIP))?.uploadedAt).toBe("2026-12-08T03:02:00.000Z");
  });
});
