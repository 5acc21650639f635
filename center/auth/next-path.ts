/**
 * Where the login page may send the browser after a login: a path of the console itself, or "/".
 * The value is taken as the page reads it (already percent-decoded from `?next=`), so anything a
 * browser could read as another origin is refused: no backslash (browsers read `/\host` as
 * `//host`), no control or white-space characters (they drop tab and newline: `/\t/host`), not
 * `//`, and the WHATWG URL parser must keep it on the console's origin.
 */
export function safeNext(next: unknown): string {
  if (typeof next !== "string" || next.length > 512) return "/";
  if (!next.startsWith("/") || next.startsWith("//")) return "/";
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  if (/[\\\u0000-\u0020\u007f-\u00a0\u2028\u2029]/.test(next)) return "/";
  const base = "http://console.invalid";
  let url: URL;
  try {
    url = new URL(next, base);
  } catch {
    return "/";
  }
  if (url.origin !== base) return "/";
  return `${url.pathname}${url.search}${url.hash}`;
}
