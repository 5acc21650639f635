import { generateFleetKeys } from "../../provisioning/fleet-keys.js";
import { parseCliArgs } from "../args.js";
import { UsageError, type CliCommand } from "../cli-command.js";

export const command: CliCommand = {
  name: "keys",
  summary: "make the fleet signing key pair (Ed25519)",
  usage:
    "pillar keys generate --out DIR [--name NAME]\n" +
    "  writes DIR/NAME.key (private, mode 0600: keep it off the pillars) and DIR/NAME.pub (install on every pillar\n" +
    "  as /etc/alarm-pillar/fleet.pub); NAME defaults to fleet; never overwrites an existing key",
  async run(argv) {
    const [sub, ...rest] = argv;
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
