import { mkdirSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import type { Reporter, TestModule } from "vitest/node";
import { ROOT } from "./child.js";

/**
 * Prints, at the end of every run, the whole run's wall-clock time and the ten slowest test files
 * (their own time: import, hooks and tests), so a file that grew slow is seen in every CI log.
 * Also writes every file's seconds to test-output/file-seconds.json: copied into
 * test/support/file-seconds.json it orders the next runs (longest-first-sequencer.ts).
 */
export default class SlowestFilesReporter implements Reporter {
  private startedAt = performance.now();

  onTestRunStart(): void {
    this.startedAt = performance.now();
  }

  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    const files = modules
      .map((m) => {
        const d = m.diagnostic();
        const ms = d.prepareDuration + d.environmentSetupDuration + d.setupDuration + d.collectDuration + d.duration;
        return { file: relative(ROOT, m.moduleId), seconds: Math.round(ms / 100) / 10 };
      })
      .sort((a, b) => b.seconds - a.seconds);
    const whole = (performance.now() - this.startedAt) / 1000;
    const lines = [
      "",
      `test files: ${files.length}, whole run ${whole.toFixed(0)} s; the ten slowest files:`,
      ...files.slice(0, 10).map((f) => `  ${f.seconds.toFixed(1).padStart(6)} s  ${f.file}`),
      "",
    ];
    process.stdout.write(`${lines.join("\n")}\n`);
    if (files.length > 1) {
      mkdirSync(join(ROOT, "test-output"), { recursive: true });
      const table = Object.fromEntries(files.map((f) => [f.file, f.seconds]));
      writeFileSync(join(ROOT, "test-output/file-seconds.json"), `${JSON.stringify(table, null, 2)}\n`);
    }
  }
}
