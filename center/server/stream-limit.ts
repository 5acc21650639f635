import type { ServerResponse } from "node:http";

export interface StreamLimits {
  /** Streams of one holder (an officer, or a client address without accounts). */
  perHolder: number;
  /** Streams of the whole console. */
  total: number;
}

export const DEFAULT_STREAM_LIMITS: StreamLimits = { perHolder: 8, total: 200 };

/**
 * The pages' live streams (`/api/stream`), bounded per holder and in all. A holder opening one
 * more than its share loses its oldest stream (a page it left open elsewhere reconnects and
 * takes a slot back): so one session cannot fill the console however many it opens, and the
 * newest page of an officer is always served. Only when the console as a whole is full is a new
 * stream refused (`admit` returns false: 503).
 */
export class StreamLimit {
  private readonly byHolder = new Map<string, ServerResponse[]>();
  private readonly all = new Set<ServerResponse>();

  constructor(private readonly limits: StreamLimits = DEFAULT_STREAM_LIMITS) {}

  get size(): number {
    return this.all.size;
  }

  [Symbol.iterator](): IterableIterator<ServerResponse> {
    return this.all.values();
  }

  /** Takes `res` in for `holder` (true), or refuses it (false: the console is full). */
  admit(holder: string, res: ServerResponse): boolean {
    const mine = this.byHolder.get(holder) ?? [];
    while (mine.length >= this.limits.perHolder) this.drop(mine.shift()!);
    if (this.all.size >= this.limits.total) return false;
    mine.push(res);
    this.byHolder.set(holder, mine);
    this.all.add(res);
    res.on("close", () => this.forget(holder, res));
    return true;
  }

  /** Cuts one stream (the page reconnects). */
  drop(res: ServerResponse): void {
    this.all.delete(res);
    res.destroy();
  }

  /** Cuts (`destroy`) or ends every stream. */
  clear(how: "end" | "destroy"): void {
    for (const s of this.all) how === "end" ? s.end() : s.destroy();
    this.all.clear();
    this.byHolder.clear();
  }

  private forget(holder: string, res: ServerResponse): void {
    this.all.delete(res);
    const mine = this.byHolder.get(holder);
    if (!mine) return;
    const i = mine.indexOf(res);
    if (i >= 0) mine.splice(i, 1);
    if (!mine.length) this.byHolder.delete(holder);
  }
}
