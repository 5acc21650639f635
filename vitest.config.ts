import { defineConfig } from "vitest/config";
import LongestFirstSequencer from "./test/support/longest-first-sequencer.js";

/**
 * Test files that must run alone: none of them is made to share the machine. Each entry says why.
 * Everything else runs side by side (PARALLEL_FILES workers): most files wait on real processes
 * (brokers, pillars, ptys, browsers), not on the CPU.
 */
const SERIAL_FILES: string[] = [];

/** Files at once: 3 keeps a 2-core machine busy without starving the media tests' encoders. */
const PARALLEL_FILES = Number(process.env.TEST_WORKERS ?? 3);

const shared = {
  testTimeout: 60_000,
  hookTimeout: 60_000,
  pool: "forks" as const,
};

export default defineConfig({
  test: {
    reporters: ["default", "./test/support/slowest-files-reporter.ts"],
    globalSetup: ["./test/support/global-setup.ts"],
    // the run's order is the root's sequencer (projects cannot have their own)
    sequence: { sequencer: LongestFirstSequencer },
    projects: [
      {
        test: {
          ...shared,
          name: "parallel",
          include: ["test/**/*.test.ts"],
          exclude: ["test/bench/**", "node_modules/**", ...SERIAL_FILES],
          maxWorkers: PARALLEL_FILES,
          sequence: { groupOrder: 0 },
        },
      },
      ...(SERIAL_FILES.length
        ? [
            {
              test: {
                ...shared,
                name: "serial",
                include: SERIAL_FILES,
                maxWorkers: 1,
                sequence: { groupOrder: 1 },
              },
            },
          ]
        : []),
    ],
  },
});
