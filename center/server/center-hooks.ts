import type { IncomingMessage, ServerResponse } from "node:http";

/**
 * The seams where the center's other parts (officer accounts, the incident log, history, the
 * shift report: center/auth, center/log, center/report) plug into the console server without
 * editing it. The server calls them in this order for every request:
 *   1. state-changing requests (POST/PUT/PATCH/DELETE) must pass the Origin/Host and JSON checks;
 *   2. `auth.officer(req)` says who is asking (null: nobody logged in);
 *   3. each `routes[i].handle(...)` may answer the request (return true) before the console's own routes.
 */

/** Who acts at the console. */
export interface Officer {
  /** Stable id (login name); goes into `incident.ack`'s `by` and signaling's `officer`. */
  id: string;
  /** Name shown to other officers ("answered by …"). */
  name: string;
  role: "officer" | "supervisor";
}

/** The center's access check. Without one, the console is open (the demo; a trusted loopback). */
export interface CenterAuth {
  /** The officer behind this request, or null when it carries no valid session. */
  officer(req: IncomingMessage): Promise<Officer | null>;
  /** Where the page sends a visitor without a session (e.g. "/login"). */
  loginPath: string;
  /** Paths served without a session (the login page and its POST, static assets). */
  isPublic(pathname: string, method: string): boolean;
}

/** Extra HTTP routes (login, history, report…), tried before the console's own. */
export interface CenterRoutes {
  /** Answer the request and return true, or return false to let the next routes try. */
  handle(req: IncomingMessage, res: ServerResponse, url: URL, officer: Officer | null): Promise<boolean>;
}

/** Observers of the console's traffic (the incident log stores it). */
export interface CenterTap {
  /**
   * A message from the broker (parsed JSON, within bounds). The console acknowledges it to the
   * broker (PUBACK) only once this resolved; a rejection means "not stored": it is tried again.
   */
  received?(topic: string, payload: unknown, retain: boolean): void | Promise<void>;
  /** A message the console published for an officer. Must not throw. */
  published?(topic: string, payload: unknown, officer: Officer | null): void | Promise<void>;
}

/** The console's way to send a command to a pillar, handed to the center's parts at start. */
export interface ConsolePublisher {
  /** Publishes (QoS 1, `issuedAt` from the server's clock) for `officer`, then hands it to the taps. */
  publish(topic: string, payload: object, officer: Officer | null): Promise<void>;
}

/** Everything the center's other parts add to the console server. */
export interface CenterParts {
  auth?: CenterAuth;
  routes: CenterRoutes[];
  taps: CenterTap[];
  /**
   * What the center remembers that the pages must see after a restart: the pillar messages
   * (topic, parsed payload) of incidents still open, oldest first. Checked like the broker's.
   */
  recall?(): Promise<{ topic: string; payload: unknown }[]>;
  /** The center's secret for officers' call tokens (center-gate.ts), the same on every server. */
  callTokenKey?: string;
  /** Called once the console's broker session exists (routes that send commands keep it). */
  attach?(console: ConsolePublisher): void;
  /** Called on shutdown, after the HTTP server stopped (close databases here). */
  stop?(): Promise<void>;
}
