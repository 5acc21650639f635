/**
 * The audible alarm: a two-tone beep (Web Audio) every 2 s while any alarm is waiting. Browsers
 * only let a page make sound after a click, so the officer's "Start shift" click creates the
 * AudioContext. Every beep counts in `played` and fires an `alarm-sound` event on window, and the
 * beeps pass through an AnalyserNode (`level()`), so tests can check that sound was made.
 */
export class AlarmSound {
  private ctx: AudioContext | undefined;
  private analyser: AnalyserNode | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;
  played = 0;
  /** The loudest sample (0–1) the analyser heard during the last beep. */
  lastPeak = 0;

  get started(): boolean {
    return this.ctx !== undefined;
  }

  /** Call from a click handler (a user gesture). */
  async start(): Promise<void> {
    if (!this.ctx) {
      this.ctx = new AudioContext();
      this.analyser = this.ctx.createAnalyser();
      this.analyser.fftSize = 2048;
      this.analyser.connect(this.ctx.destination);
    }
    await this.ctx.resume();
  }

  /** Beep while `waiting` (checked again before every beep) is true. */
  set(waiting: boolean): void {
    if (waiting && !this.timer && this.ctx) {
      this.beep();
      this.timer = setInterval(() => this.beep(), 2000);
    } else if (!waiting && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  /** Peak amplitude (0–1) in the analyser's window right now. */
  level(): number {
    const a = this.analyser;
    if (!a) return 0;
    const buf = new Float32Array(a.fftSize);
    a.getFloatTimeDomainData(buf);
    let peak = 0;
    for (const v of buf) peak = Math.max(peak, Math.abs(v));
    return peak;
  }

  private beep(): void {
    const ctx = this.ctx;
    if (!ctx || !this.analyser) return;
    const t = ctx.currentTime;
    for (const [i, freq] of [880, 660, 880].entries()) {
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.type = "square";
      osc.frequency.value = freq;
      const at = t + i * 0.22;
      gain.gain.setValueAtTime(0.0001, at);
      gain.gain.exponentialRampToValueAtTime(0.3, at + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, at + 0.2);
      osc.connect(gain).connect(this.analyser);
      osc.start(at);
      osc.stop(at + 0.21);
    }
    this.played++;
    // listen to the graph while the three tones play (~0.65 s) and keep the loudest sample
    let peak = 0;
    const sample = setInterval(() => (peak = Math.max(peak, this.level())), 20);
    setTimeout(() => {
      clearInterval(sample);
      this.lastPeak = peak;
      window.dispatchEvent(new CustomEvent("alarm-sound", { detail: { played: this.played, peak } }));
    }, 700);
  }
}
