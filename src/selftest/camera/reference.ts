import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { atomicWriteFile } from "../../fsutil/atomic-write.js";
import { parseBoundedJson } from "../../util/bounded-json.js";

/** The camera's view taken at commissioning: what "moved" and "defocused" are measured against. */
export interface CameraReference {
  at: string;
  /** 32×18 gray thumbnail (block means). */
  thumb: number[];
  sharpness: number;
  meanLuma: number;
}

/** `dataDir/selftest/reference.json` (+ `reference.jpg` for people). */
export class ReferenceStore {
  constructor(private readonly dir: string) {}

  get jsonPath(): string {
    return join(this.dir, "reference.json");
  }

  async load(): Promise<CameraReference | undefined> {
    let text: string;
    try {
      text = await readFile(this.jsonPath, "utf8");
    } catch {
      return undefined;
    }
    const r = parseBoundedJson(text, { maxBytes: 64 * 1024, maxDepth: 4 }) as Partial<CameraReference>;
    if (!Array.isArray(r.thumb) || typeof r.sharpness !== "number" || typeof r.meanLuma !== "number") return undefined;
    return r as CameraReference;
  }

  async save(ref: CameraReference, jpeg: Buffer): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    await atomicWriteFile(join(this.dir, "reference.jpg"), jpeg);
    await atomicWriteFile(this.jsonPath, JSON.stringify(ref));
  }
}
