import { generateFleetKeys } from "../../provisioning/fleet-keys.js";
import { createFleetCa, issueCertificate } from "../../security/pillar-pki.js";
import { parseCliArgs } from "../args.js";
import { flagLines } from "../flag-help.js";
import { UsageError, type CliCommand } from "../cli-command.js";

function daysArg(v: string | undefined, def: number): number {
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 36_500)
    throw new UsageError(`--days must be a whole number 1..36500, got "${v}"`);
  return n;
}

export const command: CliCommand = {
  name: "keys",
  summary: "make the fleet signing key pair (Ed25519), the fleet TLS CA and pillar certificates",
  usage:
    "pillar keys generate --out DIR [--name NAME]\n" +
    "  writes DIR/NAME.key (private, mode 0600: keep it off the pillars) and DIR/NAME.pub (install on every pillar\n" +
    "  as /etc/alarm-pillar/fleet.pub); NAME defaults to fleet; never overwrites an existing key\n" +
    "pillar keys ca --out DIR [--name fleet-ca] [--days 3650]\n" +
    "  the fleet's TLS CA (EC P-256, openssl): DIR/NAME.crt (to the broker and every pillar) and DIR/NAME.key (0600;\n" +
    "  keep it offline)\n" +
    "pillar keys cert --ca CA.crt --ca-key CA.key --id ID --out DIR [--days 825] [--server DNS:name,IP:addr]\n" +
    "  a certificate signed by the fleet CA with CN = ID: a pillar's client certificate (ID = pillar id), the\n" +
    "  center's (ID = center) or, with --server, a broker's; writes DIR/ID.crt and DIR/ID.key (0600).\n" +
    "  On the pillar: broker.tls.certFile / keyFile (docs/mqtt-security.md). Keys are never printed.\n" +
    flagLines([
      ["--out DIR", "where the files are written (required, no default)"],
      ["--name NAME", "generate: the key pair's file name (default: fleet); ca: the CA's (default: fleet-ca)"],
      ["--days N", "how long a certificate is valid, 1–36500 (default: ca 3650, cert 825)"],
      ["--ca CA.crt", "cert: the fleet CA's certificate (required, no default)"],
      ["--ca-key CA.key", "cert: the fleet CA's private key (required, no default)"],
      ["--id ID", "cert: the certificate's CN: a pillar id, center, or a broker's name (required, no default)"],
      [
        "--server DNS:name,IP:addr",
        "cert: a broker's server certificate with these names (default: a client certificate)",
      ],
    ]),
  async run(argv) {
    const [sub, ...rest] = argv;
    if (sub === "ca") {
      const { values: v } = parseCliArgs(
        rest,
        { out: { type: "string" }, name: { type: "string" }, days: { type: "string" } },
        false,
      );
      if (!v.out) throw new UsageError("--out DIR is required");
      const ca = await createFleetCa(v.out, v.name ?? "fleet-ca", daysArg(v.days, 3650));
      console.log(
        `CA certificate: ${ca.certPath} (valid until ${ca.notAfter})\nCA key:         ${ca.keyPath} (mode 0600)`,
      );
      return 0;
    }
    if (sub === "cert") {
      const { values: v } = parseCliArgs(
        rest,
        {
          ca: { type: "string" },
          "ca-key": { type: "string" },
          id: { type: "string" },
          out: { type: "string" },
          days: { type: "string" },
          server: { type: "string" },
        },
        false,
      );
      if (!v.ca || !v["ca-key"] || !v.id || !v.out) throw new UsageError("--ca, --ca-key, --id and --out are required");
      const c = await issueCertificate({
        caCert: v.ca,
        caKey: v["ca-key"],
        cn: v.id,
        outDir: v.out,
        days: daysArg(v.days, 825),
        usage: v.server ? "server" : "client",
        altNames: v.server?.split(",").map((s) => s.trim()),
      });
      console.log(
        `certificate: ${c.certPath} (CN=${v.id}, valid until ${c.notAfter})\nkey:         ${c.keyPath} (mode 0600)`,
      );
      return 0;
    }
    if (sub !== "generate") throw new UsageError(`unknown subcommand "${sub ?? ""}"`);
    const { values } = parseCliArgs(rest, { out: { type: "string" }, name: { type: "string" } }, false);
    if (!values.out) throw new UsageError("--out DIR is required");
    const k = await generateFleetKeys(values.out, values.name ?? "fleet");
    console.log(
      `private key: ${k.privateKeyPath} (mode 0600)\npublic key:  ${k.publicKeyPath}\nkey id:      ${k.keyId}`,
    );
    return 0;
  },
};
