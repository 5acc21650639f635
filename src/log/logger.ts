import { pino, type Logger, type LoggerOptions } from "pino";

/** Keys whose values never reach a log line. */
const SECRET_PATHS = [
  "password",
  "*.password",
  "*.*.password",
  "secret",
  "*.secret",
  "token",
  "*.token",
  "privateKey",
  "*.privateKey",
  "broker.password",
  "config.broker.password",
];

let root: Logger | undefined;

/** Options for the root logger: JSON lines to stdout (journald picks them up), secrets masked. */
export function rootLoggerOptions(level = process.env.PILLAR_LOG_LEVEL ?? "info"): LoggerOptions {
  return {
    level,
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: SECRET_PATHS, censor: "***" },
  };
}

/** The process-wide root logger (created on first use). */
export function rootLogger(): Logger {
  root ??= pino(rootLoggerOptions());
  return root;
}

/** Replace the root logger, e.g. with a silent one in tests or a level from config. */
export function setRootLogger(logger: Logger): void {
  root = logger;
}

/** One child logger per module: `moduleLogger("outbox")` tags every line with `module`. */
export function moduleLogger(module: string, parent: Logger = rootLogger()): Logger {
  return parent.child({ module });
}

/** Mask the password part of a URL such as mqtt://user:pw@host. */
export function maskUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return url;
  }
}

export type { Logger };
