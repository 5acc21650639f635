import { existsSync } from "node:fs";
import { copyFile, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import mqtt, { type IClientOptions } from "mqtt";
import { waitFor } from "../support/wait.js";
import { TestMosquitto } from "../support/mosquitto.js";
import { PillarProcess } from "../support/pillar-process.js";
import { testConfigDoc } from "../support/sim-pillar.js";
import { TestPki } from "../support/test-pki.js";
import { DIST_ENTRY, pressToCenter, SERVICE_ENV, SERVICE_NODE_FLAGS } from "./press-path.bench.js";

const ACL = fileURLToPath(new URL("../../scripts/mosquitto/alarm-pillar.acl", import.meta.url));

/**
 * The press path through Mosquitto with mutual TLS and the reference ACL (docs/mqtt-security.md),
 * beside the same path in plaintext measured in the same run (the machine is shared: compare
 * within one run), and the cold start of `pillar run` to its `online` status over mutual TLS.
 */
export async function runTlsBench(
  presses = Number(process.env.BENCH_PRESSES ?? 1000),
): Promise<Record<string, number>> {
  const pki = await new TestPki().start();
  const acl = join(pki.dir, "acl");
  await copyFile(ACL, acl);
  const tlsBroker = await new TestMosquitto({
    tls: { caFile: pki.ca.certPath, certFile: pki.broker.certPath, keyFile: pki.broker.keyPath, aclFile: acl },
  }).start();
  const plainBroker = await new TestMosquitto().start();
  try {
    const center = await pki.issue("center");
    const pillar = await pki.issue("test-001");
    const centerTls: IClientOptions = {
      ca: await readFile(pki.ca.certPath),
      cert: await readFile(center.certPath),
      key: await readFile(center.keyPath),
    };
    const tls = { caFile: pki.ca.certPath, certFile: pillar.certPath, keyFile: pillar.keyPath };
    const plain = await pressToCenter(plainBroker, presses, { prefix: "tls_plain_" });
    const secure = await pressToCenter(tlsBroker, presses, {
      prefix: "tls_",
      pillar: { broker: { url: "x", tls } },
      center: centerTls,
    });
    const cold = await coldStart(tlsBroker, tls, centerTls);
    const coldPlain = await coldStart(plainBroker, undefined, {});
    return {
      tls_press_to_center_p50_ms: secure.tls_press_to_center_p50_ms!,
      tls_press_to_center_p99_ms: secure.tls_press_to_center_p99_ms!,
      tls_plain_press_to_center_p99_ms: plain.tls_plain_press_to_center_p99_ms!,
      tls_press_to_center_n: secure.tls_press_to_center_n!,
      tls_cold_start_ms: cold,
      tls_plain_cold_start_ms: coldPlain,
    };
  } finally {
    await tlsBroker.dispose();
    await plainBroker.dispose();
    await pki.dispose();
  }
}

/** Process start → the retained `online` status at the center (median of 3), with or without TLS. */
async function coldStart(
  broker: TestMosquitto,
  tls: Record<string, string> | undefined,
  centerTls: IClientOptions,
): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), "bench-tls-"));
  const entry = existsSync(DIST_ENTRY) ? DIST_ENTRY : undefined;
  const starts: number[] = [];
  try {
    for (let run = 0; run < 3; run++) {
      const config = await PillarProcess.writeConfig(
        dir,
        testConfigDoc({
          pillar: { id: "test-001" },
          dataDir: join(dir, `data-${run}`),
          broker: { url: broker.url, ...(tls ? { tls } : {}) },
          heartbeat: { intervalS: 30 },
        }),
      );
      const watcher = await mqtt.connectAsync(broker.url, { ...centerTls, clientId: `bench-tls-watch-${run}` });
      let onlineAt = 0;
      let t0 = Number.POSITIVE_INFINITY;
      watcher.on("message", (_t, p) => {
        const s = JSON.parse(p.toString() || "{}") as { state?: string; at?: string };
        // the retained status of the run before is "offline"; count the new "online" only
        if (s.state === "online" && performance.now() > t0 && !onlineAt) onlineAt = performance.now();
      });
      await watcher.subscribeAsync("pillar/v1/test-001/status", { qos: 1 });
      t0 = performance.now();
      const proc = new PillarProcess(config, [], entry, entry ? SERVICE_NODE_FLAGS : [], entry ? SERVICE_ENV : {});
      await proc.start();
      await waitFor(() => onlineAt, "online status over mutual TLS", 30_000);
      starts.push(onlineAt - t0);
      await proc.kill("SIGTERM");
      await watcher.endAsync();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  starts.sort((a, b) => a - b);
  return Math.round(starts[1]!);
}
