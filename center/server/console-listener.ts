import { readFile } from "node:fs/promises";
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";

/** The console's certificate (PEM files), from the console config's `https`. */
export interface ConsoleTls {
  keyFile: string;
  certFile: string;
}

/**
 * The console's HTTP server: HTTPS with the given key and certificate (then the session cookie
 * is Secure, center/auth), plain HTTP without (the demo on loopback). The files are read once,
 * at start; a missing or unreadable one stops the start with its path in the message.
 */
export async function createConsoleListener(
  tls: ConsoleTls | undefined,
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<Server> {
  if (!tls) return createHttpServer(handler);
  const read = (path: string, what: string) =>
    readFile(path).catch((err: Error) => {
      throw new Error(`console https.${what} ${path}: ${err.message}`);
    });
  const [key, cert] = await Promise.all([read(tls.keyFile, "keyFile"), read(tls.certFile, "certFile")]);
  return createHttpsServer({ key, cert, minVersion: "TLSv1.2" }, handler);
}
