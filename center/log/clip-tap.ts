import { Ajv } from "ajv";
import { type Static, Type } from "@sinclair/typebox";
import { CLIP_ID_PATTERN } from "../../src/recording/clip-store.js";
import type { CenterTap } from "../server/center-hooks.js";
import type { ClipLog } from "./clip-log.js";

const RESULT = /^pillar\/v1\/([a-z0-9][a-z0-9-]{1,62})\/cmd\/(clips\.list|clips\.upload)\/result$/;
/** clips.upload's correlation id names its clip, so a failed answer (no result) still finds it. */
export const UPLOAD_CORRELATION = new RegExp(`^upload-(${CLIP_ID_PATTERN.slice(1, -1)})-[a-z0-9]{1,16}$`);

const Time = Type.String({ maxLength: 40, pattern: "^\\d{4}-\\d{2}-\\d{2}T" });
const Listed = Type.Object({
  id: Type.String({ pattern: CLIP_ID_PATTERN }),
  incidentId: Type.Union([Type.String({ maxLength: 64 }), Type.Null()]),
  file: Type.String({ maxLength: 200 }),
  start: Time,
  end: Type.Union([Time, Type.Null()]),
  bytes: Type.Integer({ minimum: 0 }),
  sha256: Type.Union([Type.String({ pattern: "^[0-9a-f]{64}$" }), Type.Null()]),
  state: Type.String({ maxLength: 16 }),
});
const ListResult = Type.Object({
  correlationId: Type.String({ maxLength: 128 }),
  ok: Type.Literal(true),
  result: Type.Object({ clips: Type.Array(Listed, { maxItems: 500 }) }),
});
const UploadAnswer = Type.Object({
  correlationId: Type.String({ pattern: UPLOAD_CORRELATION.source }),
  ok: Type.Boolean(),
  at: Time,
  error: Type.Optional(Type.Object({ code: Type.String({ maxLength: 64 }), message: Type.String({ maxLength: 500 }) })),
});
const ajv = new Ajv({ allErrors: true });
const validList = ajv.compile<Static<typeof ListResult>>(ListResult);
const validUpload = ajv.compile<Static<typeof UploadAnswer>>(UploadAnswer);

/**
 * Keeps the center's record of clips from the pillars' answers: a `clips.list` result stores
 * (or updates) every clip it lists with its incident; a `clips.upload` answer marks the clip
 * uploaded, or failed with the pillar's error. Only answers the center asked for count: the
 * command of that correlation id went to that very pillar (the commands table, written before
 * the command is published); anything else passes by.
 */
export class ClipTap implements CenterTap {
  constructor(private readonly clips: ClipLog) {}

  async received(topic: string, payload: unknown): Promise<void> {
    const m = RESULT.exec(topic);
    if (!m) return;
    const at = new Date().toISOString();
    const pillarId = m[1]!;
    const correlationId = (payload as { correlationId?: unknown } | null)?.correlationId;
    if (typeof correlationId !== "string" || !(await this.clips.asked(correlationId, pillarId, m[2]!))) return;
    if (m[2] === "clips.list") {
      if (validList(payload)) await this.clips.listed(pillarId, payload.result.clips, at);
    } else if (validUpload(payload)) {
      const clipId = UPLOAD_CORRELATION.exec(payload.correlationId)![1]!;
      const e = payload.error;
      await this.clips.uploadAnswered(clipId, payload.ok ? null : `${e?.code}: ${e?.message}`, payload.at);
    }
  }
}
