/**
 * A hook a simulated driver offers for tests and the on-screen demo (press the button, black out
 * the camera, read what the speaker played…). The composition root mounts every hook a driver
 * offers on the control endpoint under `/sim/`; nothing else needs to know a driver is simulated.
 * Real drivers offer none.
 */
export interface SimControl {
  method: "GET" | "POST";
  /** Path on the control endpoint, starting with `/sim/`. */
  path: string;
  /** Runs the hook; `query` holds the request's query string. Answers a JSON-able value. */
  handle(query: URLSearchParams): unknown | Promise<unknown>;
}
