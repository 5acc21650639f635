import { randomUUID } from "node:crypto";
import { createInterface, type Interface } from "node:readline";
import type { SelftestReport } from "../../selftest/report.js";
import type { RunEvent } from "../../selftest/runner.js";

type Seq<E> = E & { seq: number };
interface EventsAnswer {
  events: Seq<RunEvent>[];
  done: boolean;
  report: SelftestReport | null;
  error: string | null;
}

const POLL_MS = 150;
const MARK = { pass: "PASS", fail: "FAIL", skip: "skip" } as const;

/** The pillar refused (busy, no such run): its sentence, said once. */
class Refused extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function call<T>(port: number, method: "GET" | "POST", path: string, body?: unknown): Promise<T> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, {
    method,
    ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { "content-type": "application/json" } }),
  });
  const json = (await res.json()) as T & { error?: string };
  if (!res.ok) throw new Refused(res.status, json.error ?? `${method} ${path}: HTTP ${res.status}`);
  return json;
}

/** One line of input from the installer (stdin), or undefined when stdin ended. */
function askLine(rl: Interface, q: string, signal: AbortSignal): Promise<string | undefined> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(undefined);
    const onClose = () => resolve(undefined);
    rl.once("close", onClose);
    signal.addEventListener("abort", onClose, { once: true });
    rl.question(q, { signal }, (a) => {
      rl.off("close", onClose);
      resolve(a);
    });
  });
}

/**
 * Starts a self-test on the pillar behind the control port and shows it as it runs: one line per
 * check with its result and value, the prompts (answered from stdin), then a summary. The start
 * request stays open while the run goes on: if this process goes away (killed, the ssh session
 * cut) the connection closes and the pillar cancels the run at once. Ctrl-C cancels it too.
 * Resolves with the report and whether it was cancelled here.
 */
export async function watchSelftest(
  port: number,
  o: { only?: string[]; interactive: boolean; setReference: boolean; out: NodeJS.WritableStream },
): Promise<{ report: SelftestReport; cancelled: boolean }> {
  const { out } = o;
  const runId = randomUUID();
  let refused: Error | undefined;
  const start = { ...(o.only ? { only: o.only } : {}), interactive: o.interactive, setReference: o.setReference };
  call(port, "POST", "/selftest/start", { ...start, runId, hold: true }).catch((err: Error) => (refused = err));
  let cancelled = false;
  const stopAsking = new AbortController();
  const onInterrupt = () => {
    if (cancelled) process.exit(130);
    cancelled = true;
    stopAsking.abort();
    out.write("\ncancelling the self-test (Ctrl-C again quits at once)\n");
    call(port, "POST", `/selftest/cancel?run=${runId}`).catch(() => undefined);
  };
  process.on("SIGINT", onInterrupt);
  const rl = o.interactive ? createInterface({ input: process.stdin, output: out as NodeJS.WriteStream }) : undefined;
  // in a terminal readline reads Ctrl-C itself
  rl?.on("SIGINT", onInterrupt);
  let after = 0;
  let open = false;
  try {
    for (;;) {
      let a: EventsAnswer;
      try {
        a = await call<EventsAnswer>(port, "GET", `/selftest/events?run=${runId}&after=${after}`);
      } catch (err) {
        if (refused) throw refused;
        // the run is not registered yet (the start request is on its way)
        if (!(err instanceof Refused && err.status === 404)) throw err;
        await new Promise((r) => setTimeout(r, POLL_MS));
        continue;
      }
      for (const e of a.events) {
        after = e.seq;
        if (e.type === "check") {
          out.write(`[${String(e.index + 1).padStart(2)}/${e.total}] ${e.title} … `);
          open = true;
        } else if (e.type === "result") {
          const r = e.result;
          const value = r.value === undefined || r.value === null ? "" : ` (${r.value}${r.unit ? ` ${r.unit}` : ""})`;
          out.write(`${open ? "" : `${r.title} … `}${MARK[r.status]}${value}  ${r.detail}\n`);
          open = false;
        } else if (e.type === "prompt") {
          if (open) out.write("\n");
          open = false;
          if (e.kind === "action") out.write(`  >>> ${e.text} (within ${Math.round(e.timeoutMs / 1000)} s)\n`);
          else {
            const line = rl ? await askLine(rl, `  >>> ${e.text} [y/n] `, stopAsking.signal) : undefined;
            const answer = /^\s*(y|yes|да|иә)\s*$/i.test(line ?? "");
            await call(port, "POST", `/selftest/answer?run=${runId}`, { promptId: e.promptId, answer }).catch(
              () => undefined,
            );
          }
        } else if (e.type === "prompt.closed") {
          out.write(`  ... ${e.answer ? "ok" : "no answer"}\n`);
        } else if (e.type === "info") out.write(`  ${e.text}\n`);
      }
      if (a.error) throw new Error(a.error);
      if (a.done && a.report) return { report: summary(a.report, out, cancelled), cancelled };
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  } finally {
    process.off("SIGINT", onInterrupt);
    rl?.close();
  }
}

function summary(r: SelftestReport, out: NodeJS.WritableStream, cancelled: boolean): SelftestReport {
  const s = r.summary;
  out.write(
    `\n${cancelled ? "CANCELLED" : r.ok ? "PASSED" : "FAILED"}: ${s.pass} passed, ${s.fail} failed, ${s.skip} skipped in ${(r.durationMs / 1000).toFixed(1)} s` +
      `${r.failed.length ? ` — required checks failed: ${r.failed.join(", ")}` : ""}\n`,
  );
  if (r.referenceSaved) out.write("camera reference view saved (commissioning)\n");
  if (r.files) out.write(`report: ${r.files.html}\n        ${r.files.json}\n`);
  return r;
}
