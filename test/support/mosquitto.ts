import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { canConnect, freePort } from "./free-port.js";
import { stopChild } from "./processes.js";
import { sleep } from "./wait.js";

const MOSQUITTO = process.env.MOSQUITTO_BIN ?? "/usr/sbin/mosquitto";

/** A TLS listener (mutual TLS when `requireCertificate`), as in docs/mqtt-security.md. */
export interface MosquittoTls {
  caFile: string;
  certFile: string;
  keyFile: string;
  /** Refuse clients without a certificate signed by the CA (default true). */
  requireCertificate?: boolean;
  /** The client certificate's CN becomes the user name (for %u in the ACL; default true). */
  useIdentityAsUsername?: boolean;
  aclFile?: string;
}

/**
 * A real Mosquitto started by a test on a free loopback port, with its own config and a
 * persistence folder it can write (as root it keeps root: `user root`, else queued messages
 * for persistent sessions would silently not survive a restart). Stopped by pid.
 */
export class TestMosquitto {
  port = 0;
  dir = "";
  private proc: ChildProcess | undefined;
  log = "";

  constructor(private readonly o: { tls?: MosquittoTls } = {}) {}

  get url(): string {
    return `${this.o.tls ? "mqtts" : "mqtt"}://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  async start(): Promise<this> {
    if (!this.port) this.port = await freePort();
    if (!this.dir) this.dir = await mkdtemp(join(tmpdir(), "mosq-"));
    const conf = join(this.dir, "mosquitto.conf");
    await writeFile(
      conf,
      [
        `listener ${this.port} 127.0.0.1`,
        ...this.tlsLines(),
        "persistence true",
        `persistence_location ${this.dir}/`,
        "autosave_interval 1",
        "max_queued_messages 100000",
        "user root",
        "log_type error",
        "log_type warning",
        "",
      ].join("\n"),
    );
    const proc = spawn(MOSQUITTO, ["-c", conf], { stdio: ["ignore", "pipe", "pipe"] });
    this.proc = proc;
    proc.stdout?.on("data", (d: Buffer) => (this.log += d.toString()));
    proc.stderr?.on("data", (d: Buffer) => (this.log += d.toString()));
    const until = Date.now() + 10_000;
    while (!(await canConnect(this.port))) {
      if (proc.exitCode !== null) throw new Error(`mosquitto exited: ${this.log}`);
      if (Date.now() > until) throw new Error(`mosquitto did not listen on ${this.port}: ${this.log}`);
      await sleep(20);
    }
    return this;
  }

  private tlsLines(): string[] {
    const t = this.o.tls;
    if (!t) return ["allow_anonymous true"];
    return [
      `cafile ${t.caFile}`,
      `certfile ${t.certFile}`,
      `keyfile ${t.keyFile}`,
      `require_certificate ${t.requireCertificate ?? true}`,
      `use_identity_as_username ${t.useIdentityAsUsername ?? true}`,
      ...(t.aclFile ? [`acl_file ${t.aclFile}`] : []),
      "allow_anonymous false",
    ];
  }

  /** Stop gracefully (SIGTERM: it saves its persistence file) and wait for the exit. */
  async stop(): Promise<void> {
    const p = this.proc;
    this.proc = undefined;
    await stopChild(p, { signal: "SIGTERM" });
  }

  /** Stop and delete its folder. */
  async dispose(): Promise<void> {
    await this.stop();
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
  }
}
