/**
 * The attacker of console-login.bench.ts, in its own process (its sockets and JSON must not slow
 * the bench's own measurement): `CONCURRENCY` wrong logins at once against the console at `URL`
 * from `ADDRESSES` loopback addresses, each re-sent as soon as it is answered, until SIGTERM;
 * then one line of JSON: the answers counted by status.
 */
import { call } from "../center/helpers/console-rig.js";

const [url, concurrency = "400", addresses = "20"] = process.argv.slice(2);
if (!url) throw new Error("usage: login-flood-client.ts URL [CONCURRENCY] [ADDRESSES]");
const answers: Record<number, number> = {};
let flooding = true;

async function attacker(i: number): Promise<void> {
  for (let n = 0; flooding; n++) {
    const a = await call(url!, "/login", {
      body: { user: `intruder${i}-${n}`, password: "wrong-pass-1" },
      from: `127.0.1.${1 + (i % Number(addresses))}`,
    }).catch(() => ({ status: 0 }));
    answers[a.status] = (answers[a.status] ?? 0) + 1;
  }
}

process.on("SIGTERM", () => {
  flooding = false;
  console.log(JSON.stringify(answers));
  process.exit(0);
});
console.log("flooding");
await Promise.all(Array.from({ length: Number(concurrency) }, (_, i) => attacker(i)));
