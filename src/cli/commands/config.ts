import { writeFile } from "node:fs/promises";
import { configJsonSchema } from "../../../config/schema.js";
import { ConfigError } from "../../config/config-errors.js";
import { loadConfigFile, migrateConfigFile } from "../../config/load-config.js";
import { verifyConfigSignature } from "../../provisioning/config-signature.js";
import { parseCliArgs } from "../args.js";
import { flagLines } from "../flag-help.js";
import { UsageError, type CliCommand } from "../cli-command.js";

export const command: CliCommand = {
  name: "config",
  summary: "validate, migrate or print the config schema",
  usage:
    "pillar config validate FILE… [--key FLEET.pub]\n" +
    "pillar config migrate FILE\n" +
    "pillar config schema [--out FILE]\n" +
    "  validate  check each config file: every error with its JSON path; exit 1 if any file is bad\n" +
    "  migrate   rewrite an older config in the current version, keeping FILE.v{N}.bak\n" +
    "  schema    the config's JSON Schema (draft 2020-12)\n" +
    flagLines([
      ["--key FLEET.pub", "validate: also check each file's Ed25519 signature FILE.sig (default: not checked)"],
      ["--out FILE", "schema: write the schema to FILE (default: stdout)"],
    ]),
  async run(argv) {
    const [sub, ...rest] = argv;
    switch (sub) {
      case "validate": {
        const { positionals, values } = parseCliArgs(rest, { key: { type: "string" } });
        if (!positionals.length) throw new UsageError("name at least one config file");
        let bad = 0;
        for (const file of positionals) {
          try {
            const c = await loadConfigFile(file);
            const signed = values.key ? await verifyConfigSignature(file, values.key) : undefined;
            console.log(
              `${file}: valid (pillar ${c.pillar.id}, driver ${c.hal.driver}, version ${c.version})${signed ? `, signed by key ${signed.keyId}` : ""}`,
            );
          } catch (err) {
            bad++;
            if (err instanceof ConfigError) console.error(err.message);
            else console.error(`${file}: ${(err as Error).message}`);
          }
        }
        return bad ? 1 : 0;
      }
      case "migrate": {
        const { positionals } = parseCliArgs(rest, {});
        if (positionals.length !== 1) throw new UsageError("name one config file");
        const backup = await migrateConfigFile(positionals[0]!);
        console.log(
          backup
            ? `${positionals[0]}: migrated; the old file is kept as ${backup}`
            : `${positionals[0]}: already current`,
        );
        return 0;
      }
      case "schema": {
        const { values } = parseCliArgs(rest, { out: { type: "string" } }, false);
        const text = `${JSON.stringify(configJsonSchema(), null, 2)}\n`;
        if (values.out) await writeFile(values.out, text);
        else process.stdout.write(text);
        return 0;
      }
      default:
        throw new UsageError(`unknown subcommand "${sub ?? ""}"`);
    }
  },
};
