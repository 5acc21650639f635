/**
 * A command's flags for its `--help`: one line each, the flag (with its argument) and what it
 * means, ending with its default. `pillar <command> --help` prints the synopsis and these.
 */
export function flagLines(rows: readonly (readonly [flag: string, meaning: string])[]): string {
  const width = Math.max(...rows.map(([f]) => f.length));
  return rows.map(([f, m]) => `  ${f.padEnd(width)}  ${m}`).join("\n");
}
