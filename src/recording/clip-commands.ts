import { Type } from "@sinclair/typebox";
import { CommandFailure, type CommandDef } from "../commands/command-service.js";
import { CLIP_ID_PATTERN, type ClipEntry, type ClipStore } from "./clip-store.js";
import { uploadClip } from "./clip-upload.js";
import type { Recorder } from "./recorder.js";

const ClipId = Type.String({ pattern: CLIP_ID_PATTERN, description: "a clip id from clips.list" });
const IsoTime = Type.String({
  pattern: "^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}",
  maxLength: 40,
  description: "ISO 8601 time",
});
const MAX_LISTED = 500;

function clipOf(store: ClipStore, id: string, finished = false): ClipEntry {
  const e = store.get(id);
  if (!e) throw new CommandFailure("not_found", `no clip ${id} on this pillar`);
  if (finished && (e.state === "recording" || !e.sha256))
    throw new CommandFailure("busy", `clip ${e.id} is still being recorded`);
  return e;
}

/** The center's commands on the pillar's recordings (docs/recording.md). */
export function clipCommands(store: ClipStore, recorder: Recorder): CommandDef[] {
  const listArgs = {
    from: Type.Optional(IsoTime),
    to: Type.Optional(IsoTime),
    incidentId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  };
  const list: CommandDef<typeof listArgs> = {
    name: "clips.list",
    description: "list recorded clips, optionally those overlapping [from, to] or of one incident",
    args: listArgs,
    handle: (a) => {
      const from = a.from ? Date.parse(a.from) : -Infinity;
      const to = a.to ? Date.parse(a.to) : Infinity;
      if (Number.isNaN(from) || Number.isNaN(to))
        throw new CommandFailure("invalid_payload", "from/to: not a valid time");
      const clips = store
        .list()
        .filter((e) => (a.incidentId ? e.incidentId === a.incidentId : true))
        .filter((e) => Date.parse(e.start) <= to && Date.parse(e.end ?? new Date().toISOString()) >= from);
      return { clips: clips.slice(-MAX_LISTED), total: clips.length, recording: recorder.status() };
    },
  };
  const uploadArgs = {
    clipId: ClipId,
    url: Type.String({ pattern: "^https?://", maxLength: 2048, description: "HTTP(S) PUT target" }),
    headers: Type.Optional(
      Type.Record(Type.String({ pattern: "^[A-Za-z0-9-]{1,64}$" }), Type.String({ maxLength: 1024 }), {
        maxProperties: 16,
      }),
    ),
  };
  const upload: CommandDef<typeof uploadArgs> = {
    name: "clips.upload",
    description: "PUT the clip as one MP4 to a URL, resuming after a broken connection",
    args: uploadArgs,
    handle: async (a) => {
      const e = clipOf(store, a.clipId, true);
      try {
        const r = await uploadClip({ url: a.url, path: store.pathOf(e), sha256: e.sha256!, headers: a.headers });
        return { clipId: e.id, bytes: r.bytes, sha256: e.sha256, attempts: r.attempts, resumedAt: r.resumedAt };
      } catch (err) {
        throw new CommandFailure("upload_failed", (err as Error).message);
      }
    },
  };
  const idArgs = { clipId: ClipId };
  const confirm: CommandDef<typeof idArgs> = {
    name: "clips.confirm",
    description: "the center has the clip: retention and disk pressure may delete it from now on",
    args: idArgs,
    handle: async (a) => {
      clipOf(store, a.clipId);
      const e = await store.update(a.clipId, { confirmed: true });
      recorder.enforce();
      return e;
    },
  };
  const del: CommandDef<typeof idArgs> = {
    name: "clips.delete",
    description: "delete a clip now (a clip being recorded cannot be deleted)",
    args: idArgs,
    handle: async (a) => {
      const e = clipOf(store, a.clipId, true);
      await store.remove(e.id);
      recorder.enforce();
      return { deleted: e.id };
    },
  };
  return [list, upload, confirm, del] as unknown as CommandDef[];
}
