import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { readPublicKey, privateKeyTooOpen, verifySignatureText } from "../../provisioning/config-signature.js";
import { buildFleet, MANIFEST_FILE, readManifest, signFleet } from "../../provisioning/fleet-builder.js";
import { InventoryError } from "../../provisioning/fleet-inventory.js";
import { CsvSyntaxError } from "../../provisioning/csv-parser.js";
import { parseCliArgs } from "../args.js";
import { flagLines } from "../flag-help.js";
import { UsageError, type CliCommand } from "../cli-command.js";

async function warnOpenKey(path: string): Promise<void> {
  if (await privateKeyTooOpen(path)) console.error(`warning: ${path} is readable by others; chmod 600 it`);
}

async function verifyDir(dir: string, pub: string): Promise<number> {
  const key = await readPublicKey(pub);
  const manifest = await readManifest(dir);
  const files = [MANIFEST_FILE, ...manifest.pillars.map((p) => p.file)];
  let bad = 0;
  for (const f of files) {
    try {
      const sig = await readFile(join(dir, `${f}.sig`), "utf8").catch(() => undefined);
      verifySignatureText(await readFile(join(dir, f)), sig, key, f);
    } catch (err) {
      bad++;
      console.error(`${join(dir, f)}: ${(err as Error).message}`);
    }
  }
  console.log(`${files.length - bad} of ${files.length} files carry a valid signature`);
  return bad ? 1 : 0;
}

export const command: CliCommand = {
  name: "fleet",
  summary: "build, sign and verify the configs of many pillars from a CSV inventory",
  usage:
    "pillar fleet build --inventory SITES.csv --defaults DEFAULTS.json --out DIR [--key PRIVATE.key]\n" +
    "                   [--tls-ca CA.crt --tls-ca-key CA.key]\n" +
    "pillar fleet sign --key PRIVATE.key DIR|FILE\n" +
    "pillar fleet verify --key PUBLIC.pub DIR\n" +
    "pillar fleet simulate …   (its flags: pillar fleet simulate --help)\n" +
    "  build     one config per CSV row merged onto the defaults, all validated first; nothing is\n" +
    "            written on any error. Columns: docs/provisioning.md\n" +
    "  sign      sign a built folder's configs and manifest (or one file): FILE.sig beside each\n" +
    "  verify    check every signature in a built folder; exit 1 if any is missing or bad\n" +
    "  simulate  N simulated pillars in one process (load tests, demos, training)\n" +
    flagLines([
      ["--inventory SITES.csv", "build: the sites, one pillar per row (required, no default)"],
      ["--defaults DEFAULTS.json", "build: what every pillar's config shares (required, no default)"],
      ["--out DIR", "build: the output folder, must not exist or be empty (required, no default)"],
      ["--key FILE", "build, sign: the fleet's PRIVATE.key; verify: its PUBLIC.pub (default: build writes unsigned)"],
      ["--tls-ca CA.crt", "build: also a client certificate per pillar in DIR/certs, CN = id (default: none)"],
      ["--tls-ca-key CA.key", "build: the CA's private key, with --tls-ca (default: none)"],
    ]),
  async helpFor(argv) {
    return argv[0] === "simulate" ? (await import("./fleet-simulate.js")).SIMULATE_USAGE : undefined;
  },
  async run(argv) {
    const [sub, ...rest] = argv;
    switch (sub) {
      case "build": {
        const { values: v } = parseCliArgs(
          rest,
          {
            inventory: { type: "string" },
            defaults: { type: "string" },
            out: { type: "string" },
            key: { type: "string" },
            "tls-ca": { type: "string" },
            "tls-ca-key": { type: "string" },
          },
          false,
        );
        if (!v["tls-ca"] !== !v["tls-ca-key"]) throw new UsageError("--tls-ca and --tls-ca-key go together");
        if (!v.inventory || !v.defaults || !v.out)
          throw new UsageError("--inventory, --defaults and --out are required");
        if (v.key) await warnOpenKey(v.key);
        try {
          const m = await buildFleet({
            inventoryPath: v.inventory,
            defaultsPath: v.defaults,
            outDir: v.out,
            privateKeyPath: v.key,
            tlsCa: v["tls-ca"] && v["tls-ca-key"] ? { cert: v["tls-ca"], key: v["tls-ca-key"] } : undefined,
          });
          console.log(
            `${m.count} configs${v["tls-ca"] ? " and client certificates (certs/, keys mode 0600)" : ""} written to ${v.out}${m.keyId ? `, signed with key ${m.keyId}` : " (unsigned: sign with pillar fleet sign)"}; manifest: ${join(v.out, MANIFEST_FILE)}`,
          );
          return 0;
        } catch (err) {
          if (err instanceof InventoryError) {
            console.error(err.message);
            console.error(`${err.problems.length} problem(s); nothing was written to ${v.out}`);
            return 1;
          }
          if (err instanceof CsvSyntaxError) {
            console.error(`${err.message}; nothing was written to ${v.out}`);
            return 1;
          }
          throw err;
        }
      }
      case "sign": {
        const { values: v, positionals } = parseCliArgs(rest, { key: { type: "string" } });
        if (!v.key || positionals.length !== 1)
          throw new UsageError("--key PRIVATE.key and one DIR or FILE are required");
        await warnOpenKey(v.key);
        const r = await signFleet(positionals[0]!, v.key);
        console.log(`signed ${r.signed.length} config(s) with key ${r.keyId}`);
        return 0;
      }
      case "verify": {
        const { values: v, positionals } = parseCliArgs(rest, { key: { type: "string" } });
        if (!v.key || positionals.length !== 1) throw new UsageError("--key PUBLIC.pub and one DIR are required");
        return verifyDir(positionals[0]!, v.key);
      }
      case "simulate":
        return (await import("./fleet-simulate.js")).runFleetSimulate(rest);
      default:
        throw new UsageError(`unknown subcommand "${sub ?? ""}"`);
    }
  },
};
