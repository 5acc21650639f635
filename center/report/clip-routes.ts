import { randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { HttpError, sendJson } from "../auth/http-util.js";
import type { ClipLog } from "../log/clip-log.js";
import type { IncidentLog } from "../log/incident-log.js";
import type { CenterRoutes, ConsolePublisher, Officer } from "../server/center-hooks.js";

const INCIDENT_CLIPS = /^\/api\/history\/([A-Za-z0-9._-]{1,64})\/clips$/;
const CLIP_UPLOAD = /^\/api\/clips\/([0-9a-f-]{36})\/upload$/;

export interface ClipStorage {
  /** URL template with {pillarId}, {incidentId}, {clipId}; empty: no storage, nothing is uploaded. */
  urlTemplate: string;
  headers: Record<string, string>;
}

const tag = () => randomBytes(6).toString("hex");

/**
 * An incident's clips in the history. The pillar keeps its clips (docs/recording.md); the
 * center learns of them by asking:
 * - `GET /api/history/{incidentId}/clips`: the clips the pillar listed for the incident, each
 *   with where it is (on the pillar, or uploaded to `uploadUrl`), and whether uploads are set up;
 * - `POST /api/history/{incidentId}/clips`: sends the incident's pillar `clips.list` for it; the
 *   answer is stored by the ClipTap (center/log/clip-tap.ts) and shows on the next GET;
 * - `POST /api/clips/{clipId}/upload`: sends the pillar `clips.upload` to the console config's
 *   `clipUploadUrl` (the center's storage; resumable PUT); the answer marks it uploaded or failed.
 * Commands go out as the logged-in officer and are in the incident's timeline.
 */
export class ClipRoutes implements CenterRoutes {
  private console: ConsolePublisher | undefined;

  constructor(
    private readonly clips: ClipLog,
    private readonly incidents: IncidentLog,
    private readonly storage: ClipStorage,
  ) {}

  attach(console: ConsolePublisher): void {
    this.console = console;
  }

  async handle(req: IncomingMessage, res: ServerResponse, url: URL, officer: Officer | null): Promise<boolean> {
    const incident = INCIDENT_CLIPS.exec(url.pathname);
    const upload = CLIP_UPLOAD.exec(url.pathname);
    if (!incident && !upload) return false;
    try {
      if (!officer) throw new HttpError(401, "not logged in");
      if (incident && req.method === "GET")
        sendJson(res, 200, { clips: await this.clips.ofIncident(incident[1]!), uploads: !!this.storage.urlTemplate });
      else if (incident && req.method === "POST") sendJson(res, 202, await this.askList(incident[1]!, officer));
      else if (upload && req.method === "POST") sendJson(res, 202, await this.askUpload(upload[1]!, officer));
      else throw new HttpError(405, `${req.method} is not allowed here`);
    } catch (err) {
      if (!(err instanceof HttpError)) throw err;
      sendJson(res, err.status, { error: err.message });
    }
    return true;
  }

  private publisher(): ConsolePublisher {
    if (!this.console) throw new HttpError(503, "the console is not connected to the broker yet");
    return this.console;
  }

  private async askList(incidentId: string, officer: Officer): Promise<object> {
    const [incident] = await this.incidents.listIncidents({ incidentId, limit: 1 });
    if (!incident) throw new HttpError(404, `no incident ${incidentId}`);
    const correlationId = `clips-list-${tag()}`;
    await this.publisher().publish(
      `pillar/v1/${incident.pillarId}/cmd/clips.list`,
      { correlationId, incidentId },
      officer,
    );
    return { asked: "clips.list", pillarId: incident.pillarId, correlationId };
  }

  private async askUpload(clipId: string, officer: Officer): Promise<object> {
    const clip = await this.clips.get(clipId);
    if (!clip) throw new HttpError(404, `no clip ${clipId} known: ask the pillar for its clips first`);
    if (!this.storage.urlTemplate) throw new HttpError(409, "no clip storage set up (console config clipUploadUrl)");
    if (clip.state === "recording") throw new HttpError(409, "the clip is still being recorded");
    const target = this.storage.urlTemplate
      .replaceAll("{pillarId}", encodeURIComponent(clip.pillarId))
      .replaceAll("{incidentId}", encodeURIComponent(clip.incidentId ?? "none"))
      .replaceAll("{clipId}", clip.clipId);
    const correlationId = `upload-${clip.clipId}-${tag()}`; // clip-tap.ts finds the clip by it
    await this.clips.uploadRequested(clip.clipId, target, new Date().toISOString());
    const headers = Object.keys(this.storage.headers).length ? { headers: this.storage.headers } : {};
    await this.publisher().publish(
      `pillar/v1/${clip.pillarId}/cmd/clips.upload`,
      { correlationId, clipId: clip.clipId, url: target, ...headers },
      officer,
    );
    return { asked: "clips.upload", clipId, url: target, correlationId };
  }
}
