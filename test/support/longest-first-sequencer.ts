import { readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { BaseSequencer, type TestSpecification } from "vitest/node";
import { ROOT } from "./child.js";

/** Seconds per test file from an earlier whole run (slowest-files-reporter.ts writes them). */
function knownSeconds(): Record<string, number> {
  try {
    return JSON.parse(readFileSync(join(ROOT, "test/support/file-seconds.json"), "utf8")) as Record<string, number>;
  } catch {
    return {};
  }
}

/**
 * Starts the longest files first, so the parallel workers end together instead of one long file
 * starting last (on a fresh clone vitest has no timings of its own). A file not in the table
 * counts as 10 s.
 */
export default class LongestFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const seconds = knownSeconds();
    const of = (f: TestSpecification) => seconds[relative(ROOT, f.moduleId)] ?? 10;
    return [...files].sort((a, b) => of(b) - of(a));
  }
}
