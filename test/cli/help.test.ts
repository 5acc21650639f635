import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Child } from "../support/child.js";

/**
 * Every command and subcommand, as an installer meets them: `--help` lists every flag with a
 * line of meaning and a default; no arguments and a bad argument give the usage; nothing ever
 * prints a stack trace.
 */
const HELP: string[][] = [
  ["run"],
  ["config"],
  ["config", "validate"],
  ["config", "schema"],
  ["sim"],
  ["fleet"],
  ["fleet", "build"],
  ["fleet", "simulate"],
  ["flash"],
  ["keys"],
  ["keys", "cert"],
  ["selftest"],
  ["console"],
  ["console", "users"],
  ["clips"],
  ["clips", "export"],
];
/**
 * Commands that need an argument: without one they print their usage (exit 2). `run`, `selftest`
 * and `console` run without arguments (`run` is in the list: no config file here, one line).
 */
const NO_ARGS: string[][] = [["config"], ["sim"], ["fleet"], ["flash"], ["keys"], ["console", "users"], ["clips"]];
const BAD: string[][] = [
  ["run", "--no-such-flag"],
  ["config", "validate", "--no-such-flag"],
  ["sim", "press", "--no-such-flag"],
  ["fleet", "build", "--no-such-flag"],
  ["fleet", "simulate", "--no-such-flag"],
  ["flash", "x.json", "--no-such-flag"],
  ["keys", "generate", "--no-such-flag"],
  ["selftest", "--no-such-flag"],
  ["console", "--no-such-flag"],
  ["console", "users", "list", "--no-such-flag"],
  ["clips", "list", "--no-such-flag"],
  ["sim", "press", "--port", "99999"],
  ["nonsense"],
];
const STACK = /^\s+at .+:\d+:\d+\)?$/m;

describe("pillar help, usage and errors", () => {
  let dir = "";
  const results = new Map<string, { code: number | null; stdout: string; stderr: string }>();
  const key = (args: string[]) => args.join(" ");

  // each case is its own `pillar` process; a few at a time (the machine is shared)
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "pillar-help-"));
    const env = { PILLAR_CONFIG: join(dir, "absent.json") };
    const cases = [...HELP.map((a) => [...a, "--help"]), ...NO_ARGS, ["run"], ...BAD, ["--version"], []];
    const queue = [...cases];
    const worker = async () => {
      for (let args = queue.shift(); args; args = queue.shift()) {
        const c = Child.cli(args, env);
        try {
          const code = await c.exited;
          results.set(key(args), { code, stdout: c.stdout, stderr: c.stderr });
        } finally {
          await c.kill();
        }
      }
    };
    await Promise.all([worker(), worker(), worker()]);
  }, 300_000);
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const got = (args: string[]) => results.get(key(args))!;

  it.each(HELP.map((a) => [key(a), a] as const))(
    "pillar %s --help: every flag with its meaning and default",
    (_n, a) => {
      const r = got([...a, "--help"]);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^usage: pillar /);
      expect(r.stdout + r.stderr).not.toMatch(STACK);
      const lines = r.stdout.split("\n");
      const flags = new Set(r.stdout.match(/--[a-z][a-z-]+/g) ?? []);
      flags.delete("--help"); // every command's, pointed at for a subcommand's own
      expect(flags.size).toBeGreaterThan(0);
      for (const flag of flags) {
        const own = lines.filter((l) => new RegExp(`^\\s+${flag}(\\s|$)`).test(l));
        expect(own, `${flag} has its own line`).toHaveLength(1);
        // its meaning, then what it is when not given ("required" when nothing can stand in)
        expect(own[0]!.trim().length, `${flag} says what it means`).toBeGreaterThan(flag.length + 12);
        expect(own[0], `${flag} says its default`).toMatch(/default|required/);
      }
    },
  );

  it.each(NO_ARGS.map((a) => [key(a), a] as const))("pillar %s with no arguments: the usage, no stack", (_n, a) => {
    const r = got(a);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/usage:/);
    expect(r.stdout + r.stderr).not.toMatch(STACK);
  });

  it("pillar run with no config file: one line naming the file and the flag", () => {
    const r = got(["run"]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(
      `pillar run: no config file ${join(dir, "absent.json")}: pass --config FILE (or --sim for the demo)`,
    );
  });

  it.each(BAD.map((a) => [key(a), a] as const))("pillar %s: what is wrong, once, and the usage; no stack", (_n, a) => {
    const r = got(a);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/usage:/);
    expect(r.stdout + r.stderr).not.toMatch(STACK);
    const first = r.stderr.split("\n")[0]!;
    // said once: the offending word does not repeat in the line that names it
    const word = a.at(-1)!;
    expect(first.split(word).length - 1, first).toBeLessThanOrEqual(1);
  });

  it("pillar --version and bare pillar", () => {
    expect(got(["--version"])).toMatchObject({ code: 0, stdout: expect.stringMatching(/^pillar \d+\.\d+\.\d+\n$/) });
    const bare = got([]);
    expect(bare.code).toBe(2);
    expect(bare.stdout).toContain("usage: pillar <command>");
    expect(bare.stdout).toContain("--version");
  });
});
