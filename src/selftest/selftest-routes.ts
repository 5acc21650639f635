import { type Static, Type } from "@sinclair/typebox";
import { Ajv2020 } from "ajv/dist/2020.js";
import type { ControlServer } from "../control/control-server.js";
import { HttpError } from "../control/control-server.js";
import { parseBoundedJson } from "../util/bounded-json.js";
import { SelftestBusy, type SelftestService } from "./selftest-service.js";
import { SelftestSession } from "./session.js";

/** `--only` entries: check ids, components or id prefixes. */
export const OnlyList = Type.Array(Type.String({ pattern: "^[a-z]+(\\.[a-z]+)*$", maxLength: 40 }), { maxItems: 32 });

const StartBody = Type.Object(
  {
    only: Type.Optional(OnlyList),
    interactive: Type.Optional(Type.Boolean()),
    setReference: Type.Optional(Type.Boolean()),
    /** The client's own id for the run, so it can watch the events while `hold` keeps the answer. */
    runId: Type.Optional(Type.String({ pattern: "^[0-9a-f-]{36}$" })),
    /** Answer only when the run ends; the connection closing before cancels the run. */
    hold: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
const AnswerBody = Type.Object(
  { promptId: Type.Integer({ minimum: 1 }), answer: Type.Boolean() },
  { additionalProperties: false },
);

const ajv = new Ajv2020({ allErrors: true, strict: false });
const checkStart = ajv.compile<Static<typeof StartBody>>(StartBody);
const checkAnswer = ajv.compile<Static<typeof AnswerBody>>(AnswerBody);

function body<T>(text: string, check: ((v: unknown) => v is T) & { errors?: unknown }): T {
  let v: unknown;
  try {
    v = text.trim() ? parseBoundedJson(text, { maxBytes: 16 * 1024, maxDepth: 4 }) : {};
  } catch (err) {
    throw new HttpError(400, (err as Error).message);
  }
  if (!check(v)) throw new HttpError(400, `invalid body: ${ajv.errorsText(check.errors as never)}`);
  return v;
}

/**
 * The self-test on the control endpoint (127.0.0.1): `pillar selftest` runs it this way, on a
 * running pillar or on its own in-process one. `POST /selftest/start` → `{runId}` (with
 * `{runId, hold: true}`: answered when the run ends, and cancelled when the connection closes
 * first); `GET /selftest/events?run=ID&after=N` → `{events, done, report?, error?}`;
 * `POST /selftest/answer?run=ID` `{promptId, answer}`; `POST /selftest/cancel?run=ID`;
 * `GET /selftest/status` (what runs, since when, until when at the latest); `GET /selftest/last`.
 */
export function addSelftestRoutes(control: ControlServer, service: SelftestService): void {
  const sessions = new Map<string, SelftestSession>();
  const find = (url: URL) => {
    const s = sessions.get(url.searchParams.get("run") ?? "");
    if (!s) throw new HttpError(404, "no such self-test run");
    return s;
  };
  control.route("POST", "/selftest/start", (req, text) => {
    const b = body(text, checkStart);
    if (service.isRunning()) throw new HttpError(409, service.busyMessage());
    if (b.runId && sessions.has(b.runId)) throw new HttpError(409, "that run id is taken");
    const s = new SelftestSession(b.runId);
    for (const [id, old] of sessions) if (old.done) sessions.delete(id);
    sessions.set(s.id, s);
    const interactive = b.interactive ?? false;
    const ran = service
      .run({
        trigger: "cli",
        interactive,
        only: b.only,
        setReference: b.setReference,
        prompter: s.prompter,
        emit: (e) => s.emit(e),
        signal: s.signal,
      })
      .then(
        (r) => (s.report = r),
        (err: Error) => (s.error = err instanceof SelftestBusy ? service.busyMessage() : err.message),
      );
    if (!b.hold) return { runId: s.id };
    // the client holds this request open while it watches: its going away (killed, ssh cut)
    // closes the connection, and that cancels the run at once
    const gone = () => s.cancel("the client went away");
    req.socket.once("close", gone);
    return ran.then(() => {
      req.socket.off("close", gone);
      return { runId: s.id, done: true };
    });
  });
  control.route("POST", "/selftest/cancel", (_req, _text, url) => {
    find(url).cancel("cancelled by the installer");
    return { ok: true };
  });
  control.route("GET", "/selftest/status", () => {
    const info = service.running();
    return info ? { running: true, ...info, message: service.busyMessage() } : { running: false };
  });
  control.route("GET", "/selftest/events", (_req, _b, url) => {
    const s = find(url);
    const after = Number(url.searchParams.get("after") ?? 0) || 0;
    return { events: s.since(after), done: s.done, report: s.report ?? null, error: s.error ?? null };
  });
  control.route("POST", "/selftest/answer", (_req, text, url) => {
    const b = body(text, checkAnswer);
    if (!find(url).answer(b.promptId, b.answer)) throw new HttpError(409, "that prompt is not open");
    return { ok: true };
  });
  control.route("GET", "/selftest/last", () => service.lastReport ?? {});
}
