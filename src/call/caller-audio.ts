import { join } from "node:path";
import type { Logger } from "pino";
import type { Speaker } from "../../hal/audio.js";
import type { PillarBus } from "../bus/events.js";
import { PROJECT_ROOT } from "../cli/version.js";
import type { CallState } from "./call-session.js";
import { PromptPlayer } from "./prompt-player.js";

/** The prompts shipped with the software (scripts/make-prompts.sh makes them). */
export const DEFAULT_PROMPTS_DIR = join(PROJECT_ROOT, "config", "prompts");

export type PromptName = "calling" | "please-wait" | "limit-warning";

export interface PromptSettings {
  languages: readonly string[];
  dir?: string;
}

export interface CallerAudioDeps {
  bus: PillarBus;
  /** The speaker the prompts are played on (the driver's: prompts are not the officer's voice). */
  speaker: Speaker;
  settings: () => PromptSettings;
  log: Logger;
}

/** The fault raised while a prompt file is missing or unusable (the call works without it). */
export const PROMPT_FAULT = { component: "prompts", code: "prompt_missing" } as const;

/**
 * The caller is never left in silence. Follows the alarm call's state (`call.state`) and plays,
 * on the pillar's speaker: at the offer "your call is going to the police, stay by the pillar"
 * in each configured language, then a ringback tone until an officer answers; "please wait"
 * (between ringbacks) while the officer's side re-joins; the call-limit warning, spoken over the
 * call (the officer's voice waits meanwhile: `speaking`). Everything here is best effort: it
 * runs after the press was handled, never throws, and a missing file raises a fault only.
 */
export class CallerAudio {
  private readonly player: PromptPlayer;
  private offs: (() => void)[] = [];
  /** The incident whose "calling" prompt was played (a re-route to the secondary does not repeat it). */
  private introFor: string | null = null;
  private session: string | undefined;
  private last: CallState | undefined;
  private answered = false;
  private step = 0;
  private overCall = false;

  constructor(private readonly d: CallerAudioDeps) {
    this.player = new PromptPlayer({
      sink: (p) => d.speaker.play(p),
      log: d.log,
      onMissing: (file, err) =>
        d.bus.emit("fault.raised", {
          ...PROMPT_FAULT,
          message: `prompt ${file} unusable (${err.message}); the call goes on without it`,
          at: Date.now(),
        }),
      onAllFound: () => d.bus.emit("fault.cleared", { ...PROMPT_FAULT, at: Date.now() }),
    });
  }

  async start(): Promise<void> {
    this.offs.push(this.d.bus.on("call.state", (e) => this.onCall(e)));
  }

  async stop(): Promise<void> {
    for (const off of this.offs) off();
    this.offs = [];
    this.player.stop();
    this.session = undefined;
  }

  /** True while a prompt plays over an answered call: the officer's voice is held back meanwhile. */
  get speaking(): boolean {
    return this.overCall && this.player.playing;
  }

  /** Opus packets sent to the speaker by the prompts (for tests and /call). */
  get packetsSent(): number {
    return this.player.sent;
  }

  private files(name: PromptName): string[] {
    const s = this.d.settings();
    return s.languages.map((lang) => join(s.dir ?? DEFAULT_PROMPTS_DIR, lang, `${name}.opus`));
  }

  private get ringback(): string {
    return join(this.d.settings().dir ?? DEFAULT_PROMPTS_DIR, "ringback.opus");
  }

  private onCall(e: { sessionId: string; kind: string; state: CallState; incidentId: string | null }): void {
    if (e.kind !== "alarm") return;
    const step = ++this.step;
    if (this.session !== e.sessionId) this.answered = false;
    const prev = this.session === e.sessionId ? this.last : undefined;
    this.session = e.sessionId;
    this.last = e.state;
    this.overCall = false;
    const ringback = [this.ringback];
    switch (e.state) {
      case "offered": {
        const key = e.incidentId ?? e.sessionId;
        const intro = this.introFor !== key ? this.files("calling") : [];
        this.introFor = key;
        void this.play(step, intro, ringback);
        return;
      }
      case "rejoining":
        void this.play(step, [], [...this.files("please-wait"), ...ringback]);
        return;
      case "connected":
        // an officer took the offer but has not picked up: the ringback goes on (or comes back)
        if (prev === "rejoining") void this.play(step, [], ringback);
        return;
      case "warning":
        if (prev === "rejoining") {
          if (this.answered) this.player.stop();
          else void this.play(step, [], ringback);
          return;
        }
        this.overCall = this.answered;
        void this.play(step, this.files("limit-warning"), this.answered ? [] : ringback);
        return;
      case "answered":
        this.answered = true;
        this.player.stop();
        return;
      case "ended":
        this.player.stop();
        this.session = undefined;
        return;
    }
  }

  private async play(step: number, once: string[], loop: string[]): Promise<void> {
    try {
      await this.d.speaker.start();
      if (step !== this.step) return;
      await this.player.play(once, loop);
    } catch (err) {
      this.d.log.error({ err: (err as Error).message }, "caller prompts failed");
    }
  }
}
