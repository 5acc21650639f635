import type { Microphone, Speaker } from "../../hal/audio.js";
import { Listeners } from "../../hal/listeners.js";

/**
 * The microphone shared by the call and the recorder: the capture runs while either holds it.
 * The call keeps calling `start()`/`stop()` (idempotent for it, as before); the recorder holds
 * it with `acquire()`/`release()` for the pre-roll.
 */
export class SharedMicrophone implements Microphone {
  private readonly holders = new Set<"call" | "record">();

  constructor(private readonly inner: Microphone) {}

  get driver(): string {
    return this.inner.driver;
  }

  start(): Promise<void> {
    return this.hold("call");
  }
  stop(): Promise<void> {
    return this.drop("call");
  }
  acquire(): Promise<void> {
    return this.hold("record");
  }
  release(): Promise<void> {
    return this.drop("record");
  }

  private async hold(who: "call" | "record"): Promise<void> {
    const first = this.holders.size === 0;
    this.holders.add(who);
    if (first) await this.inner.start();
  }

  private async drop(who: "call" | "record"): Promise<void> {
    if (!this.holders.delete(who) || this.holders.size > 0) return;
    await this.inner.stop();
  }

  onRtp(l: (p: Buffer) => void): () => void {
    return this.inner.onRtp(l);
  }
  onFault(l: (err: Error) => void): () => void {
    return this.inner.onFault(l);
  }
  onRecover(l: () => void): () => void {
    return this.inner.onRecover(l);
  }
  setGain(db: number): void {
    this.inner.setGain(db);
  }
  pid(): number | undefined {
    return this.inner.pid();
  }
}

/** The speaker with a tap: the recorder hears every packet of the officer's voice that is played. */
export class TappedSpeaker implements Speaker {
  private readonly played = new Listeners<[Buffer]>();

  constructor(readonly inner: Speaker) {}

  get driver(): string {
    return this.inner.driver;
  }
  start(): Promise<void> {
    return this.inner.start();
  }
  stop(): Promise<void> {
    return this.inner.stop();
  }
  play(packet: Buffer): void {
    this.inner.play(packet);
    this.played.emit(packet);
  }
  onPlay(l: (p: Buffer) => void): () => void {
    return this.played.add(l);
  }
  setVolume(percent: number): void {
    this.inner.setVolume(percent);
  }
  beep(ms: number, hz?: number, volume?: number): void {
    this.inner.beep(ms, hz, volume);
  }
  onFault(l: (err: Error) => void): () => void {
    return this.inner.onFault(l);
  }
  pid(): number | undefined {
    return this.inner.pid();
  }
}
