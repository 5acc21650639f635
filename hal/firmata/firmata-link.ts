import type { Logger } from "pino";
import { SerialPort } from "serialport";
import { Listeners } from "../listeners.js";
import { FIRMATA_BYTES, firmataModules, type FirmataIo, type FiveBoard } from "./firmata-modules.js";

export interface FirmataLinkOptions {
  /** Serial device of the co-processor, e.g. /dev/ttyACM0. */
  port: string;
  baudRate: number;
  /** Link check period: a REPORT_VERSION query is sent this often and must be answered before the next. */
  heartbeatMs: number;
  /** How long start() (and each reconnect) waits for the Firmata handshake. Default 5000 ms. */
  startTimeoutMs?: number;
  log?: Logger;
}

/** One open serial connection with its firmata-io instance and johnny-five board. */
interface Conn {
  port: SerialPort;
  io: FirmataIo;
  board: FiveBoard;
  /** A byte arrived since the last heartbeat query. */
  rxSincePing: boolean;
  pinged: boolean;
  /** QUERY_FIRMWARE requests sent during the handshake and not answered yet, and when the last went. */
  firmwareQueries: number;
  lastFirmwareQueryAt: number;
  closed: boolean;
  /** What a serial close/error means right now: fail the handshake, or drop a working link. */
  onDrop: (err: Error) => void;
}

const HANDSHAKE_RETRY_MS = 500;
const RECONNECT_MAX_MS = 30_000;
const CLOSE_TIMEOUT_MS = 1_000;

/**
 * The serial link to a Firmata co-processor, shared by every line of the pillar.
 *
 * - start() opens the port, drives the Firmata handshake itself (REPORT_VERSION + QUERY_FIRMWARE,
 *   repeated until answered: boards that do not reset on open never announce themselves), then
 *   waits for johnny-five's "ready" (capabilities and analog mapping received).
 * - A heartbeat sends REPORT_VERSION every `heartbeatMs`; if nothing at all came back since the
 *   previous one, the link is faulted (serialport reports nothing when a co-processor hangs or a
 *   pty peer goes away). The first byte afterwards recovers it.
 * - A serial 'close'/'error' is a fault too; the link then reopens the port with backoff.
 * - After every recovery, and when the co-processor announces itself unasked (it rebooted and
 *   lost its pin modes), `onReconfigure` hooks run so that the lines re-apply their set-up.
 */
export class FirmataLink {
  readonly faults = new Listeners<[Error]>();
  readonly recovers = new Listeners<[]>();
  private readonly reconfigureHooks = new Listeners<[FirmataIo]>();
  private conn: Conn | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private reconnectAttempt = 0;
  private abortConnect: ((err: Error) => void) | undefined;
  private faulted = false;
  private stopped = false;
  private stopping: Promise<void> | undefined;

  constructor(private readonly opts: FirmataLinkOptions) {}

  get port(): string {
    return this.opts.port;
  }

  /** The io of the working connection, if the link is up. */
  get io(): FirmataIo | undefined {
    return this.conn && !this.faulted ? this.conn.io : undefined;
  }

  /** Registers a hook run (with the current io) whenever the lines must re-apply their set-up. */
  onReconfigure(hook: (io: FirmataIo) => void): () => void {
    return this.reconfigureHooks.add(hook);
  }

  async start(): Promise<void> {
    this.stopped = false;
    this.stopping = undefined;
    this.conn = await this.connect(this.opts.startTimeoutMs ?? 5_000);
    this.startHeartbeat();
    this.opts.log?.info({ port: this.port, firmware: this.conn.io.firmware }, "firmata link up");
  }

  stop(): Promise<void> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.heartbeat);
    clearTimeout(this.reconnectTimer);
    this.abortConnect?.(new Error(`firmata ${this.port}: stopped`));
    const conn = this.conn;
    this.conn = undefined;
    if (conn) await closeConn(conn, true);
  }

  private connect(timeoutMs: number): Promise<Conn> {
    const { Firmata, Board } = firmataModules();
    const path = this.port;
    const port = new SerialPort({ path, baudRate: this.opts.baudRate, autoOpen: false });
    // Construct before opening: johnny-five needs to see the io's "connect" (the port's "open").
    const io = new Firmata(port, { reportVersionTimeout: timeoutMs });
    const board = new Board({ io, repl: false, debug: false, sigint: false });
    const conn: Conn = {
      port,
      io,
      board,
      rxSincePing: false,
      pinged: false,
      firmwareQueries: 0,
      lastFirmwareQueryAt: 0,
      closed: false,
      onDrop: () => {},
    };
    const noop = () => {};
    io.on("error", noop); // firmata-io re-emits transport errors: an unheard "error" would throw
    board.on("error", noop); // johnny-five forwards them again, plus its own connect timeout
    port.on("data", () => this.onData(conn));
    port.on("close", (err: Error | null) =>
      conn.onDrop(new Error(`serial port ${path} closed${err ? `: ${err.message}` : ""}`)),
    );
    port.on("error", (err: Error) => conn.onDrop(new Error(`serial port ${path}: ${err.message}`)));
    io.on("queryfirmware", () => this.onFirmwareAnnounce(conn));

    return new Promise<Conn>((resolve, reject) => {
      let settled = false;
      const finish = (err?: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        clearInterval(retry);
        this.abortConnect = undefined;
        if (err) {
          void closeConn(conn, false);
          reject(err);
        } else {
          conn.onDrop = (e) => this.drop(conn, e);
          resolve(conn);
        }
      };
      const hello = () => {
        if (!port.isOpen) return;
        conn.lastFirmwareQueryAt = Date.now();
        conn.firmwareQueries++;
        const b = FIRMATA_BYTES;
        port.write([b.REPORT_VERSION, b.START_SYSEX, b.QUERY_FIRMWARE, b.END_SYSEX]);
      };
      const timer = setTimeout(
        () =>
          finish(
            new Error(
              `firmata ${path}: no Firmata handshake within ${timeoutMs} ms (StandardFirmata flashed? baud rate ${this.opts.baudRate}?)`,
            ),
          ),
        timeoutMs,
      );
      let retry: NodeJS.Timeout | undefined;
      conn.onDrop = (err) => finish(new Error(`firmata ${path}: link lost during handshake: ${err.message}`));
      this.abortConnect = finish;
      board.once("ready", () => finish());
      port.open((err) => {
        if (settled) return void (err || port.close(() => {})); // stopped or timed out meanwhile
        if (err) return finish(new Error(`firmata: cannot open serial port ${path}: ${err.message}`));
        hello();
        retry = setInterval(() => (io.isReady ? clearInterval(retry) : hello()), HANDSHAKE_RETRY_MS);
      });
    });
  }

  private startHeartbeat(): void {
    clearInterval(this.heartbeat);
    this.heartbeat = setInterval(() => this.beat(), this.opts.heartbeatMs);
  }

  private beat(): void {
    const conn = this.conn;
    if (!conn?.port.isOpen) return;
    if (conn.pinged && !conn.rxSincePing) {
      this.fault(new Error(`firmata ${this.port}: no reply to the link heartbeat within ${this.opts.heartbeatMs} ms`));
    }
    conn.pinged = true;
    conn.rxSincePing = false;
    conn.port.write([FIRMATA_BYTES.REPORT_VERSION]);
  }

  private onData(conn: Conn): void {
    conn.rxSincePing = true;
    if (conn === this.conn && this.faulted) {
      this.opts.log?.info({ port: this.port }, "firmata co-processor answers again");
      this.reconfigure(conn);
      this.recover();
    }
  }

  /** An unsolicited firmware report means the co-processor rebooted: pin modes and reporting are gone. */
  private onFirmwareAnnounce(conn: Conn): void {
    const asked = conn.firmwareQueries > 0 && Date.now() - conn.lastFirmwareQueryAt < 3_000;
    conn.firmwareQueries = Math.max(0, conn.firmwareQueries - 1);
    if (asked || conn !== this.conn) return;
    this.opts.log?.warn({ port: this.port }, "firmata co-processor rebooted; re-applying pin set-up");
    this.reconfigure(conn);
  }

  private reconfigure(conn: Conn): void {
    this.reconfigureHooks.emit(conn.io);
  }

  /** The serial port went away while the link was up: fault every line, then reopen with backoff. */
  private drop(conn: Conn, err: Error): void {
    if (conn !== this.conn || this.stopped) return;
    this.conn = undefined;
    clearInterval(this.heartbeat);
    void closeConn(conn, false);
    this.fault(err);
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.stopped) return;
    const base = Math.max(1_000, this.opts.heartbeatMs);
    const delay = Math.min(RECONNECT_MAX_MS, base * 2 ** Math.min(this.reconnectAttempt, 5));
    this.reconnectAttempt++;
    this.reconnectTimer = setTimeout(() => {
      Promise.resolve(Math.max(5_000, this.opts.startTimeoutMs ?? 0))
        .then((ms) => this.connect(ms))
        .then(
          (conn) => {
            if (this.stopped) return void closeConn(conn, false);
            this.conn = conn;
            this.reconnectAttempt = 0;
            this.startHeartbeat();
            this.opts.log?.info({ port: this.port }, "firmata link reopened");
            this.reconfigure(conn);
            this.recover();
          },
          (err: Error) => {
            this.opts.log?.debug({ port: this.port, err: err.message }, "firmata reconnect failed");
            this.scheduleReconnect();
          },
        );
    }, delay);
  }

  private fault(err: Error): void {
    if (this.faulted) return;
    this.faulted = true;
    this.opts.log?.warn({ port: this.port, err: err.message }, "firmata link fault");
    this.faults.emit(err);
  }

  private recover(): void {
    if (!this.faulted) return;
    this.faulted = false;
    this.recovers.emit();
  }
}

/** Releases one connection: timers of firmata-io/johnny-five, the board cache entry, the port. */
function closeConn(conn: Conn, drain: boolean): Promise<void> {
  if (conn.closed) return Promise.resolve();
  conn.closed = true;
  conn.onDrop = () => {};
  clearTimeout(conn.io.reportVersionTimeoutId);
  if (conn.board.timer) clearTimeout(conn.board.timer);
  const cache = firmataModules().Board.cache;
  const i = cache.indexOf(conn.board);
  if (i >= 0) cache.splice(i, 1); // else johnny-five keeps it (and the port) alive forever
  const { port } = conn;
  return new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(guard);
      resolve();
    };
    const guard = setTimeout(done, CLOSE_TIMEOUT_MS); // a wedged pty must not hang stop()
    const close = () => {
      if (!port.isOpen) return done();
      try {
        port.close(() => done());
      } catch {
        done();
      }
    };
    if (drain && port.isOpen) port.drain(() => close());
    else close();
  });
}
