#!/usr/bin/env node
// Entry point of the `pillar` binary: loads the TypeScript sources through tsx, in this process.
import { register } from "tsx/esm/api";

register();
await import("../src/cli/main.ts");
