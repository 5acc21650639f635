import { parseArgs } from "node:util";
import { parseArgsProblem } from "../../src/cli/args.js";
import { SqlIncidentLog } from "../log/sql-incident-log.js";
import { defaultDbAddress, describeAddress, openSqlDb } from "../log/sql-db.js";
import { AccountError, AccountStore, ROLES, type Role } from "./accounts.js";

export const USERS_USAGE = [
  "pillar console users add NAME --role officer|supervisor [--db ADDR]",
  "pillar console users passwd NAME [--role officer|supervisor] [--db ADDR]",
  "pillar console users remove NAME [--db ADDR]",
  "pillar console users list [--db ADDR]",
  "  the password is read from stdin (one line), or asked twice on a terminal",
  "  --role ROLE  officer or supervisor (required for add; passwd keeps the current role by default)",
  "  --db ADDR    the center database: a SQLite file or postgres://… (default: env CENTER_DB, else center-data/center.db)",
].join("\n");

/** Where the command reads the password and writes its output (a test passes its own). */
export interface UsersIo {
  stdin: NodeJS.ReadStream | NodeJS.ReadableStream;
  out(line: string): void;
  err(line: string): void;
}

const PROCESS_IO: UsersIo = { stdin: process.stdin, out: (l) => console.log(l), err: (l) => console.error(l) };

/** One line from stdin: asked without echo (twice) on a terminal, else the first line of the pipe. */
async function readPassword(input: UsersIo["stdin"]): Promise<string> {
  const stdin = input as NodeJS.ReadStream;
  if (!stdin.isTTY) {
    let text = "";
    for await (const chunk of stdin) {
      text += chunk;
      if (text.includes("\n") || text.length > 4096) break;
    }
    return text.split(/\r?\n/)[0] ?? "";
  }
  const ask = (prompt: string) =>
    new Promise<string>((resolve) => {
      process.stderr.write(prompt);
      stdin.setRawMode(true);
      stdin.resume();
      let s = "";
      const onData = (b: Buffer) => {
        for (const ch of b.toString()) {
          if (ch === "\r" || ch === "\n" || ch === "\u0004") {
            stdin.off("data", onData);
            stdin.setRawMode(false);
            stdin.pause();
            process.stderr.write("\n");
            return resolve(s);
          }
          if (ch === "\u0003") process.exit(130);
          s = ch === "\u007f" ? s.slice(0, -1) : s + ch;
        }
      };
      stdin.on("data", onData);
    });
  const first = await ask("password: ");
  if ((await ask("again: ")) !== first) throw new AccountError("the passwords differ");
  return first;
}

/** `pillar console users …`: manage the officers' accounts. Returns the exit code. */
export async function runUsersCli(argv: string[], io: UsersIo = PROCESS_IO): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  const parse = () =>
    parseArgs({
      args: argv,
      options: { role: { type: "string" }, db: { type: "string" }, help: { type: "boolean", short: "h" } },
      allowPositionals: true,
      strict: true,
    });
  try {
    parsed = parse();
  } catch (err) {
    io.err(`pillar console users: ${parseArgsProblem(err as NodeJS.ErrnoException)}\nusage:\n${USERS_USAGE}`);
    return 2;
  }
  const { values: v, positionals } = parsed;
  const [action, name, ...extra] = positionals;
  if (v.help) return (io.out(`usage:\n${USERS_USAGE}`), 0);
  const needsName = action === "add" || action === "passwd" || action === "remove";
  if (!action || !["add", "passwd", "remove", "list"].includes(action) || (needsName && !name) || extra.length) {
    io.err(`pillar console users: expected add|passwd|remove NAME or list\nusage:\n${USERS_USAGE}`);
    return 2;
  }
  if (v.role !== undefined && !ROLES.includes(v.role as Role)) {
    io.err(`pillar console users: --role must be one of ${ROLES.join(", ")}, got "${v.role}"`);
    return 2;
  }
  if (action === "add" && !v.role) {
    io.err("pillar console users add: --role officer|supervisor is required");
    return 2;
  }
  const address = v.db ?? defaultDbAddress();
  const log = await SqlIncidentLog.open(await openSqlDb(address)); // brings the schema up to date
  const accounts = new AccountStore(log.db);
  try {
    if (action === "list") {
      for (const a of await accounts.list()) io.out(`${a.name}\t${a.role}`);
    } else if (action === "remove") {
      await accounts.remove(name!);
      io.err(`removed ${name} (${describeAddress(address)})`);
    } else {
      const password = await readPassword(io.stdin);
      if (action === "add") await accounts.add(name!, v.role as Role, password);
      else await accounts.passwd(name!, password, v.role as Role | undefined);
      io.err(`${action === "add" ? "added" : "changed the password of"} ${name} (${describeAddress(address)})`);
    }
    return 0;
  } catch (err) {
    if (!(err instanceof AccountError)) throw err;
    io.err(`pillar console users: ${err.message}`);
    return 1;
  } finally {
    await log.close();
  }
}
