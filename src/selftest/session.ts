import { randomUUID } from "node:crypto";
import type { Prompt, Prompter } from "./check.js";
import type { SelftestReport } from "./report.js";
import type { RunEvent } from "./runner.js";

/** Events kept per session (a run has a few dozen). */
const MAX_EVENTS = 500;

/**
 * One self-test run watched over the control endpoint (`pillar selftest` asking a running
 * pillar, or its own in-process one): the CLI polls the events and answers the prompts.
 */
export class SelftestSession {
  private readonly cancelled = new AbortController();
  readonly events: (RunEvent & { seq: number })[] = [];
  report: SelftestReport | undefined;
  error: string | undefined;
  private seq = 0;
  private nextPrompt = 1;
  private pending: { promptId: number; answer: (yes: boolean) => void } | undefined;

  /** `id`: the client's own id for the run (it watches the run while holding the start request). */
  constructor(readonly id: string = randomUUID()) {}

  /** Aborts when the run is cancelled (its client went away, or asked). */
  get signal(): AbortSignal {
    return this.cancelled.signal;
  }

  cancel(why: string): void {
    if (!this.done) this.cancelled.abort(new Error(why));
  }

  emit(e: RunEvent): void {
    this.events.push({ ...e, seq: ++this.seq });
    if (this.events.length > MAX_EVENTS) this.events.shift();
  }

  get done(): boolean {
    return this.report !== undefined || this.error !== undefined;
  }

  since(after: number): (RunEvent & { seq: number })[] {
    return this.events.filter((e) => e.seq > after);
  }

  /** The installer's answer to the open prompt; false when it is not the open one. */
  answer(promptId: number, yes: boolean): boolean {
    if (this.pending?.promptId !== promptId) return false;
    this.pending.answer(yes);
    return true;
  }

  /** Asks through the events; an "action" prompt closes itself when `done` settles. */
  readonly prompter: Prompter = {
    ask: (p: Prompt, done?: Promise<unknown>) => {
      const promptId = this.nextPrompt++;
      return new Promise<boolean>((resolve) => {
        let timer: NodeJS.Timeout | undefined;
        const close = (answer: boolean) => {
          if (this.pending?.promptId !== promptId) return;
          this.pending = undefined;
          clearTimeout(timer);
          this.emit({ type: "prompt.closed", promptId, answer });
          resolve(answer);
        };
        this.pending = { promptId, answer: close };
        timer = setTimeout(() => close(false), p.timeoutMs);
        done?.then(
          () => close(true),
          () => close(false),
        );
        this.emit({ type: "prompt", promptId, kind: p.kind, text: p.text, timeoutMs: p.timeoutMs });
      });
    },
    info: (text) => this.emit({ type: "info", text }),
  };
}

/** Nobody to ask (the center's command, supervision): every prompt is answered "no" at once. */
export const NOBODY: Prompter = { ask: async () => false, info: () => undefined };
