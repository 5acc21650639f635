import { ReadlineParser } from "@serialport/parser-readline";
import { SerialPort } from "serialport";
import { decodeFrame, encodeFrame, type Frame } from "./flash-protocol.js";

export type LinkEvent =
  | { kind: "frame"; frame: Record<string, unknown> & { t: string } }
  | { kind: "bad"; reason: string; line: string }
  | { kind: "closed"; reason: string };

/** Lines longer than this are noise, not frames (the largest DATA frame is ~3 KiB). */
const MAX_LINE = 16 * 1024;

/**
 * A serial port speaking the flash line protocol: opens the device (raw, 8N1), splits what
 * arrives into lines, decodes frames, and reports every frame, bad line and the port's closing
 * (cable pulled, device gone) to one listener.
 */
export class SerialLink {
  private port: SerialPort | undefined;
  private listener: (e: LinkEvent) => void = () => undefined;
  private closedReported = false;

  constructor(
    readonly path: string,
    readonly baudRate: number,
  ) {}

  onEvent(l: (e: LinkEvent) => void): void {
    this.listener = l;
  }

  isOpen(): boolean {
    return this.port?.isOpen ?? false;
  }

  async open(): Promise<void> {
    const port = new SerialPort({ path: this.path, baudRate: this.baudRate, autoOpen: false, hupcl: false });
    await new Promise<void>((resolve, reject) =>
      port.open((err) => (err ? reject(new Error(`cannot open ${this.path}: ${err.message}`)) : resolve())),
    );
    this.port = port;
    this.closedReported = false;
    const parser = port.pipe(new ReadlineParser({ delimiter: "\n", encoding: "utf8" }));
    parser.on("data", (line: string) => {
      if (line.trim() === "") return;
      if (line.length > MAX_LINE)
        return this.listener({ kind: "bad", reason: "line too long", line: line.slice(0, 80) });
      const d = decodeFrame(line);
      if ("frame" in d) this.listener({ kind: "frame", frame: d.frame });
      else this.listener({ kind: "bad", reason: d.error, line: line.slice(0, 200) });
    });
    port.on("error", (err: Error) => this.reportClosed(err.message));
    port.on("close", (err?: Error) => this.reportClosed(err?.message ?? "port closed"));
  }

  private reportClosed(reason: string): void {
    if (this.closedReported) return;
    this.closedReported = true;
    this.listener({ kind: "closed", reason });
  }

  /** Write one frame; resolves once it is handed to the OS. Rejects if the port is gone. */
  send(frame: Frame): Promise<void> {
    const port = this.port;
    if (!port?.isOpen) return Promise.reject(new Error(`${this.path} is not open`));
    return new Promise((resolve, reject) => {
      port.write(encodeFrame(frame), (err) => {
        if (err) return reject(new Error(`write to ${this.path} failed: ${err.message}`));
        port.drain((e) => (e ? reject(new Error(`write to ${this.path} failed: ${e.message}`)) : resolve()));
      });
    });
  }

  /** Close the port (idempotent; not reported as a closing). */
  async close(): Promise<void> {
    const port = this.port;
    this.port = undefined;
    this.closedReported = true; // a close we asked for is not news
    if (!port?.isOpen) return;
    await new Promise<void>((resolve) => port.close(() => resolve()));
  }
}
