import { execFile } from "node:child_process";
import { access, readFile } from "node:fs/promises";
import { parseJsonText } from "../../config/config-errors.js";
import { validateConfig } from "../../config/validate-config.js";
import { type SignatureError, verifyConfigSignature } from "../../provisioning/config-signature.js";
import { resolveFleetPublicKey } from "../../provisioning/fleet-keys.js";
import { type Check, fail, pass, round, skip } from "../check.js";

/**
 * The config in force passes the schema and the cross-field rules again, and so does the file
 * the pillar boots from next time (a damaged file would only show at the next boot).
 */
export function configCheck(configPath: string | undefined): Check {
  return {
    id: "config.valid",
    component: "config",
    title: "config valid",
    required: true,
    async run(ctx) {
      try {
        validateConfig(ctx.config, "config in force");
      } catch (err) {
        return fail(`the config in force is invalid: ${(err as Error).message}`);
      }
      if (configPath) {
        try {
          validateConfig(parseJsonText(await readFile(configPath, "utf8"), configPath), configPath);
        } catch (err) {
          return fail(`the config file the pillar boots from is not valid: ${(err as Error).message}`);
        }
      }
      const file = configPath ? ` (file ${configPath} valid too)` : "";
      return pass(`pillar ${ctx.config.pillar.id}, ${ctx.config.pillar.mode} mode${file}`, ctx.config.pillar.id);
    },
  };
}

/** The config file's signature (production pillars run signed configs only). */
export function signatureCheck(configPath: string | undefined): Check {
  return {
    id: "config.signed",
    component: "config",
    title: "config signed",
    required: true,
    async run(ctx) {
      const production = ctx.config.pillar.mode === "production";
      if (!configPath) return skip("the config did not come from a file");
      const key = await resolveFleetPublicKey(ctx.config);
      if (!key) return production ? fail("no fleet public key installed") : skip("no fleet public key (development)");
      try {
        const v = await verifyConfigSignature(configPath, key);
        return pass(`signed with fleet key ${v.keyId}`, v.keyId);
      } catch (err) {
        const msg = (err as Error).message;
        // unsigned is allowed in development; a signature that does not verify never is
        if (production || (err as SignatureError).code !== "unsigned") return fail(msg, "invalid");
        return pass(`development mode: ${msg}`, "unsigned");
      }
    },
  };
}

export const versionCheck: Check = {
  id: "software.version",
  component: "software",
  title: "software version",
  required: false,
  async run(ctx) {
    return pass(`alarm-pillar ${ctx.version}, Node.js ${process.versions.node}`, ctx.version);
  },
};

/** `timedatectl show` properties (systemd); undefined where there is no systemd. */
function timedatectl(): Promise<Record<string, string> | undefined> {
  return new Promise((resolve) => {
    execFile("timedatectl", ["show"], { timeout: 2000 }, (err, out) => {
      if (err) return resolve(undefined);
      resolve(Object.fromEntries(out.split("\n").map((l) => [l.split("=")[0]!, l.slice(l.indexOf("=") + 1)])));
    });
  });
}

/** `chronyc tracking`'s "System time" line: the offset in seconds, when chrony runs. */
function chronyOffsetS(): Promise<number | undefined> {
  return new Promise((resolve) => {
    execFile("chronyc", ["-c", "tracking"], { timeout: 2000 }, (err, out) => {
      const v = err ? Number.NaN : Number(out.split(",")[4]);
      resolve(Number.isFinite(v) ? v : undefined);
    });
  });
}

/** The clock is synchronized (timesyncd, chrony…), with its offset when the daemon tells it. */
export const clockCheck: Check = {
  id: "clock.sync",
  component: "clock",
  title: "clock synchronized",
  required: false,
  async run() {
    const flag = await access("/run/systemd/timesync/synchronized").then(
      () => true,
      () => false,
    );
    const props = await timedatectl();
    const synced = flag || props?.NTPSynchronized === "yes";
    const offsetS = await chronyOffsetS();
    const offset = offsetS === undefined ? "" : `, offset ${round(offsetS * 1000, 2)} ms`;
    const data = { ntp: props?.NTP ?? null, offsetMs: offsetS === undefined ? null : round(offsetS * 1000, 2) };
    if (!props && !flag) return skip("no time synchronization status on this system (no systemd-timedated)");
    return synced
      ? pass(`synchronized (NTP)${offset}`, true, undefined, data)
      : fail(
          `not synchronized${props?.NTP === "no" ? " (NTP is off)" : ""}: events carry clockSynced false`,
          false,
          undefined,
          data,
        );
  },
};
