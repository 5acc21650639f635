import { spawn, type ChildProcess } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { canConnect, freePort } from "./free-port.js";
import { stopChild } from "./processes.js";
import { sleep } from "./wait.js";

const NATS = process.env.NATS_SERVER_BIN ?? "/usr/sbin/nats-server";

interface NatsNode {
  name: string;
  client: number;
  cluster: number;
  mqtt: number;
  monitor: number;
  conf: string;
  proc?: ChildProcess;
  log: string;
}

/**
 * A 3-node NATS cluster (Debian's nats-server) on free loopback ports, each node with JetStream
 * (its own store folder), cluster routes to the other two and an MQTT listener whose streams
 * are replicated 3 times. Every node is started and stopped by pid.
 */
export class TestNatsCluster {
  dir = "";
  readonly nodes: NatsNode[] = [];

  /** MQTT URLs of the nodes, in node order. */
  get mqttUrls(): string[] {
    return this.nodes.map((n) => `mqtt://127.0.0.1:${n.mqtt}`);
  }

  async start(size = 3): Promise<this> {
    this.dir = await mkdtemp(join(tmpdir(), "nats-"));
    for (let i = 0; i < size; i++) {
      this.nodes.push({
        name: `n${i + 1}`,
        client: await freePort(),
        cluster: await freePort(),
        mqtt: await freePort(),
        monitor: await freePort(),
        conf: join(this.dir, `n${i + 1}.conf`),
        log: "",
      });
    }
    for (const n of this.nodes) {
      const store = join(this.dir, n.name, "jetstream");
      await mkdir(store, { recursive: true });
      const routes = this.nodes.filter((o) => o !== n).map((o) => `nats-route://127.0.0.1:${o.cluster}`);
      await writeFile(
        n.conf,
        [
          `server_name: ${n.name}`,
          `listen: 127.0.0.1:${n.client}`,
          `http: 127.0.0.1:${n.monitor}`,
          `jetstream { store_dir: "${store}", max_mem: 64M, max_file: 1G }`,
          `cluster { name: pillars, listen: 127.0.0.1:${n.cluster}, routes: [${routes.join(", ")}] }`,
          // replicas 3: a retained status, a will, a session survive the loss of any one node
          `mqtt { listen: 127.0.0.1:${n.mqtt}, stream_replicas: 3, ack_wait: "5s" }`,
          "",
        ].join("\n"),
      );
    }
    await Promise.all(this.nodes.map((_, i) => this.startNode(i)));
    await this.waitReady();
    return this;
  }

  /** Start (or restart) node `i` with its config and store; resolves once its MQTT port answers. */
  async startNode(i: number): Promise<void> {
    const n = this.nodes[i]!;
    const proc = spawn(NATS, ["-c", n.conf], { stdio: ["ignore", "pipe", "pipe"] });
    n.proc = proc;
    proc.stdout?.on("data", (d: Buffer) => (n.log += d.toString()));
    proc.stderr?.on("data", (d: Buffer) => (n.log += d.toString()));
    const until = Date.now() + 30_000;
    while (!(await canConnect(n.mqtt))) {
      if (proc.exitCode !== null) throw new Error(`nats-server ${n.name} exited: ${n.log}`);
      if (Date.now() > until) throw new Error(`nats-server ${n.name} did not listen on ${n.mqtt}: ${n.log}`);
      await sleep(50);
    }
  }

  /** Wait until JetStream has a meta leader and every running node is current (healthz). */
  async waitReady(timeoutMs = 60_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    for (const n of this.nodes.filter((x) => x.proc && x.proc.exitCode === null)) {
      for (;;) {
        try {
          const res = await fetch(`http://127.0.0.1:${n.monitor}/healthz?js-enabled-only=true`);
          if (res.ok) break;
        } catch {
          // not up yet
        }
        if (Date.now() > until) throw new Error(`nats-server ${n.name} not healthy: ${n.log.slice(-2000)}`);
        await sleep(200);
      }
    }
  }

  /** The node whose MQTT port a client connected from `localPort` is talking to, by the monitor's connz. */
  async nodeOfClient(clientId: string): Promise<number> {
    for (const [i, n] of this.nodes.entries()) {
      if (!n.proc || n.proc.exitCode !== null) continue;
      try {
        const res = await fetch(`http://127.0.0.1:${n.monitor}/connz?mqtt_client=${encodeURIComponent(clientId)}`);
        const j = (await res.json()) as { connections?: unknown[] };
        if (j.connections?.length) return i;
      } catch {
        // node down
      }
    }
    return -1;
  }

  pid(i: number): number | undefined {
    return this.nodes[i]?.proc?.pid;
  }

  /** SIGKILL node `i` by pid and wait for its exit. */
  async kill(i: number, signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
    await stopChild(this.nodes[i]?.proc, { signal });
  }

  async dispose(): Promise<void> {
    for (let i = 0; i < this.nodes.length; i++) await this.kill(i, "SIGTERM");
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
  }
}
