/** The page's only way out: `POST /api/publish` (JSON, same origin) to a pillar's topic below `pillar/v1/{id}/`. */
export async function publish(
  pillarId: string,
  suffix: string,
  payload: Record<string, unknown>,
): Promise<{ ok: true; correlationId?: string } | null> {
  try {
    const res = await fetch("/api/publish", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ topic: `pillar/v1/${pillarId}/${suffix}`, payload }),
    });
    if (!res.ok) {
      console.warn(`publish ${suffix} refused: ${res.status} ${await res.text()}`);
      return null;
    }
    // a command's correlation id is the server's (it names the command in the log once)
    return (await res.json()) as { ok: true; correlationId?: string };
  } catch (err) {
    console.warn(`publish ${suffix} failed: ${(err as Error).message}`);
    return null;
  }
}

/** A correlation id for a command (≤ 64 characters); the server replaces it with its own. */
export function correlationId(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

/** A secret of 144 random bits, hex (the call's ownership token). */
export function randomToken(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(18)), (b) => b.toString(16).padStart(2, "0")).join("");
}
