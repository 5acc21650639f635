/**
 * console_login_p95_ms_under_flood: a correct officer login (POST /login, a real console server
 * process with its SQLite database) while 400 wrong logins run at once, from 20 client addresses
 * (127.0.0.0/8: this machine; login-flood-client.ts, its own process), each re-sent as soon as
 * it is answered: the p95 of
 * BENCH_LOGINS (default 20) correct logins, one after another, from another address.
 * Beside it: the median of 5 correct logins before the flood (the same machine, idle console),
 * and how many wrong passwords the console checked and how many it refused (429/503)
 * without checking, over the same time.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { call } from "../center/helpers/console-rig.js";
import { Child, ROOT } from "../support/child.js";
import { addOfficer, ConsoleProcess } from "../support/console-process.js";
import { TestMosquitto } from "../support/mosquitto.js";
import { percentile, round } from "./proc-stats.js";

const FLOOD = 400;
const ADDRESSES = 20;

export async function runLoginFloodBench(
  logins = Number(process.env.BENCH_LOGINS ?? 20),
): Promise<Record<string, number>> {
  const dir = await mkdtemp(join(tmpdir(), "bench-login-"));
  const mosq = await new TestMosquitto().start();
  const db = join(dir, "center.db");
  await addOfficer(db, "aigerim", "supervisor", "aigerim-pass-1");
  const server = new ConsoleProcess(["--broker", mosq.url, "--port", "0", "--db", db]);
  let flood: Child | undefined;
  try {
    await server.start();
    const correct = async (): Promise<number> => {
      const t0 = performance.now();
      const a = await call(server.url, "/login", {
        body: { user: "aigerim", password: "aigerim-pass-1" },
        from: "127.0.2.1",
      });
      if (a.status !== 200) throw new Error(`the correct login was answered ${a.status}: ${a.body}`);
      return performance.now() - t0;
    };
    const idle: number[] = [];
    for (let i = 0; i < 5; i++) idle.push(await correct()); // the same machine without the flood
    idle.sort((a, b) => a - b);
    flood = new Child([join(ROOT, "test/bench/login-flood-client.ts"), server.url, String(FLOOD), String(ADDRESSES)]);
    await flood.waitFor(/flooding/);
    await new Promise((r) => setTimeout(r, 2000)); // the flood under way
    const times: number[] = [];
    for (let i = 0; i < logins; i++) times.push(await correct());
    await flood.kill("SIGTERM");
    const answers = JSON.parse(flood.stdout.trim().split("\n").at(-1)!) as Record<number, number>;
    times.sort((a, b) => a - b);
    return {
      console_login_p95_ms_under_flood: round(percentile(times, 95), 0),
      console_login_p50_ms_under_flood: round(percentile(times, 50), 0),
      console_login_p50_ms_idle: round(percentile(idle, 50), 0),
      console_login_flood_checked: answers[401] ?? 0,
      console_login_flood_refused: (answers[429] ?? 0) + (answers[503] ?? 0),
    };
  } finally {
    await flood?.kill();
    await server.kill();
    await mosq.dispose();
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(JSON.stringify(await runLoginFloodBench()));
  process.exit(0);
}
