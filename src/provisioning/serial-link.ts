import { SerialPort } from "serialport";
import { settleWithin, withDeadline } from "../../hal/deadline.js";
import { decodeFrame, encodeFrame, type Frame } from "./flash-protocol.js";
import { BoundedLineSplitter } from "./line-splitter.js";

export type LinkEvent =
  | { kind: "frame"; frame: Record<string, unknown> & { t: string } }
  | { kind: "bad"; reason: string; line: string }
  | { kind: "closed"; reason: string };

/** Lines longer than this are noise, not frames (the largest DATA frame is ~3 KiB). */
export const MAX_LINE = 16 * 1024;
/** Longest wait for the OS to open the port, take a frame (write + drain), or close the port. */
const OPEN_DEADLINE_MS = 5000;
const WRITE_DEADLINE_MS = 5000;
const CLOSE_DEADLINE_MS = 2000;

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
    await withDeadline(
      new Promise<void>((resolve, reject) =>
        port.open((err) =>
          err ? reject(new Error(`cannot open ${this.path}: ${openFailure(err, this.path)}`)) : resolve(),
        ),
      ),
      OPEN_DEADLINE_MS,
      `open ${this.path}`,
    );
    this.port = port;
    this.closedReported = false;
    // bounded before the newline: a line without one cannot grow without limit
    const lines = new BoundedLineSplitter(
      MAX_LINE,
      (line) => {
        if (line.trim() === "") return;
        const d = decodeFrame(line);
        if ("frame" in d) this.listener({ kind: "frame", frame: d.frame });
        else this.listener({ kind: "bad", reason: d.error, line: line.slice(0, 200) });
      },
      (head) => this.listener({ kind: "bad", reason: "line too long", line: head }),
    );
    port.on("data", (chunk: Buffer) => lines.push(chunk));
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
    const written = new Promise<void>((resolve, reject) => {
      port.write(encodeFrame(frame), (err) => {
        if (err) return reject(new Error(`write to ${this.path} failed: ${err.message}`));
        port.drain((e) => (e ? reject(new Error(`write to ${this.path} failed: ${e.message}`)) : resolve()));
      });
    });
    // a pulled cable may leave the write's callback uncalled for ever: never wait past this
    return withDeadline(written, WRITE_DEADLINE_MS, `write to ${this.path}`);
  }

  /** Close the port (idempotent; not reported as a closing). */
  async close(): Promise<void> {
    const port = this.port;
    this.port = undefined;
    this.closedReported = true; // a close we asked for is not news
    if (!port?.isOpen) return;
    await settleWithin(new Promise<void>((resolve) => port.close(() => resolve())), CLOSE_DEADLINE_MS, undefined);
  }
}

/** serialport says "Error: No such file or directory, cannot open /dev/ttyUSB0": the cause alone. */
function openFailure(err: Error, path: string): string {
  return err.message.replace(/^Error: /, "").replace(`, cannot open ${path}`, "");
}
