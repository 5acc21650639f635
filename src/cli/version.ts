import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** The software version, from package.json. */
export const SOFTWARE_VERSION: string = (
  JSON.parse(readFileSync(fileURLToPath(new URL("../../package.json", import.meta.url)), "utf8")) as { version: string }
).version;

/** The project root folder. */
export const PROJECT_ROOT = fileURLToPath(new URL("../../", import.meta.url));
