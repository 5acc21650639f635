import { createHash, createPrivateKey, X509Certificate } from "node:crypto";
import { watch, type FSWatcher } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { basename, dirname } from "node:path";

/** The `broker.tls` config section. */
export interface TlsSettings {
  caFile: string;
  certFile: string;
  keyFile: string;
  serverName?: string;
  expiryWarningDays: number;
  pollS: number;
}

/** What the health message and the logs may say about the client certificate (never the key). */
export interface CertInfo {
  subject: string;
  commonName: string;
  issuer: string;
  serialNumber: string;
  notBefore: string;
  notAfter: string;
  daysLeft: number;
  fingerprint256: string;
}

export interface TlsMaterial {
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
  info: CertInfo;
  /** Changes when any of the three files' contents change. */
  digest: string;
}

/** A TLS file problem, naming the config field (e.g. `broker.tls.keyFile`). */
export class TlsFileError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`config /broker/tls/${field}: ${message}`);
  }
}

const MAX_PEM_BYTES = 256 * 1024;

async function readPem(field: string, path: string): Promise<Buffer> {
  let s: Awaited<ReturnType<typeof stat>>;
  try {
    s = await stat(path);
  } catch (err) {
    throw new TlsFileError(
      field,
      `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  if (!s.isFile()) throw new TlsFileError(field, `${path} is not a file`);
  if (s.size > MAX_PEM_BYTES) throw new TlsFileError(field, `${path} is ${s.size} bytes (limit ${MAX_PEM_BYTES})`);
  if (field === "keyFile" && (s.mode & 0o077) !== 0) {
    throw new TlsFileError(
      field,
      `${path} may be read by group or others (mode ${(s.mode & 0o777).toString(8)}): chmod 600 it (owner only)`,
    );
  }
  return readFile(path);
}

function certsIn(pem: Buffer, field: string, path: string): X509Certificate[] {
  const blocks = pem.toString("utf8").match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (!blocks.length) throw new TlsFileError(field, `${path} holds no PEM certificate`);
  try {
    return blocks.map((b) => new X509Certificate(b));
  } catch (err) {
    throw new TlsFileError(field, `${path}: not a valid certificate (${(err as Error).message})`);
  }
}

export function certInfo(cert: X509Certificate, now = Date.now()): CertInfo {
  const notAfter = new Date(cert.validTo);
  const cn = /(?:^|\n)CN=([^\n]*)/.exec(cert.subject)?.[1] ?? "";
  return {
    subject: cert.subject.replace(/\n/g, ", "),
    commonName: cn,
    issuer: cert.issuer.replace(/\n/g, ", "),
    serialNumber: cert.serialNumber,
    notBefore: new Date(cert.validFrom).toISOString(),
    notAfter: notAfter.toISOString(),
    daysLeft: Math.floor((notAfter.getTime() - now) / 86_400_000),
    fingerprint256: cert.fingerprint256,
  };
}

/**
 * Read and check the CA, client certificate and key: sizes bounded, key file owner-only,
 * certificates parsed (node:crypto X509Certificate), key matching the certificate. Throws a
 * TlsFileError naming the field.
 */
export async function loadTlsMaterial(s: TlsSettings): Promise<TlsMaterial> {
  const [ca, cert, key] = [
    await readPem("caFile", s.caFile),
    await readPem("certFile", s.certFile),
    await readPem("keyFile", s.keyFile),
  ];
  certsIn(ca, "caFile", s.caFile);
  const leaf = certsIn(cert, "certFile", s.certFile)[0]!;
  let keyObject: ReturnType<typeof createPrivateKey>;
  try {
    keyObject = createPrivateKey(key);
  } catch (err) {
    throw new TlsFileError("keyFile", `${s.keyFile}: not a PEM private key (${(err as Error).message})`);
  }
  if (!leaf.checkPrivateKey(keyObject))
    throw new TlsFileError("keyFile", `${s.keyFile} is not the key of the certificate in ${s.certFile}`);
  const digest = createHash("sha256").update(ca).update(cert).update(key).digest("hex");
  return { ca, cert, key, info: certInfo(leaf), digest };
}

/**
 * Notices when the certificate files change on disk (a renewal writes new ones, often by
 * rename): fs.watch on their folders, and a poll every `pollS` as a fallback where inotify
 * does not reach (network or overlay file systems, a folder replaced by a symlink swap).
 * `onChange` is called (debounced) with every new valid set; a half-written renewal (cert new,
 * key still old) fails the check and is simply tried again at the next change or poll.
 */
export class TlsFileWatcher {
  private watchers: FSWatcher[] = [];
  private poll: NodeJS.Timeout | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private checking = false;
  private again = false;

  constructor(
    private readonly o: {
      settings: () => TlsSettings;
      current: () => string | undefined;
      onChange: (m: TlsMaterial) => void;
      onError: (err: Error) => void;
    },
  ) {}

  start(): void {
    const s = this.o.settings();
    const files = [s.caFile, s.certFile, s.keyFile];
    for (const dir of new Set(files.map((f) => dirname(f)))) {
      const names = new Set(files.filter((f) => dirname(f) === dir).map((f) => basename(f)));
      try {
        const w = watch(dir, { persistent: false }, (_ev, name) => {
          if (!name || names.has(name.toString()) || name.toString().startsWith("..")) this.soon();
        });
        w.on("error", () => undefined);
        this.watchers.push(w);
      } catch {
        // no inotify here: the poll below still notices
      }
    }
    this.poll = setInterval(() => this.soon(), s.pollS * 1000);
    this.poll.unref();
  }

  stop(): void {
    for (const w of this.watchers) w.close();
    this.watchers = [];
    if (this.poll) clearInterval(this.poll);
    if (this.debounce) clearTimeout(this.debounce);
    this.poll = this.debounce = undefined;
  }

  private soon(): void {
    if (this.debounce) clearTimeout(this.debounce);
    this.debounce = setTimeout(() => void this.check(), 250);
    this.debounce.unref();
  }

  /** Compare the files with what is in use; report a new valid set. */
  async check(): Promise<void> {
    if (this.checking) {
      this.again = true;
      return;
    }
    this.checking = true;
    try {
      const m = await loadTlsMaterial(this.o.settings());
      if (m.digest !== this.o.current()) this.o.onChange(m);
    } catch (err) {
      this.o.onError(err as Error);
    } finally {
      this.checking = false;
      if (this.again) {
        this.again = false;
        this.soon();
      }
    }
  }
}
