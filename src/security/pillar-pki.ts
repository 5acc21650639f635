import { execFile } from "node:child_process";
import { randomBytes, X509Certificate } from "node:crypto";
import { chmod, mkdir, mkdtemp, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/**
 * The fleet's TLS certificates, made with the `openssl` command line (present on Raspberry Pi
 * OS and Debian): a fleet CA, one client certificate per pillar (CN = pillar id, which the
 * broker uses as the user name: docs/mqtt-security.md), and server certificates for brokers.
 * Keys are EC P-256, written with mode 0600 and never printed.
 */

export interface IssuedFiles {
  certPath: string;
  keyPath: string;
  notAfter: string;
}

async function openssl(args: string[]): Promise<void> {
  try {
    await run("openssl", args, { timeout: 60_000 });
  } catch (err) {
    const e = err as { code?: string; stderr?: string; message: string };
    if (e.code === "ENOENT") throw new Error("openssl not found: install it (apt-get install openssl)");
    throw new Error(`openssl ${args[0]} failed: ${(e.stderr ?? e.message).trim().split("\n")[0]}`);
  }
}

async function refuseExisting(...paths: string[]): Promise<void> {
  for (const p of paths) {
    const there = await stat(p).then(
      () => true,
      () => false,
    );
    if (there) throw new Error(`${p} already exists: never overwritten (move it away first)`);
  }
}

/** A CN the broker may use as a user name and in ACL topic patterns: no MQTT wildcards or slashes. */
function checkCommonName(cn: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(cn))
    throw new Error(`"${cn}" cannot be a certificate name: letters, digits, ".", "_", "-" only (max 64)`);
}

/** Make a fleet CA (self-signed, 10 years by default) as DIR/NAME.crt and DIR/NAME.key. */
export async function createFleetCa(dir: string, name = "fleet-ca", days = 3650): Promise<IssuedFiles> {
  checkCommonName(name);
  await mkdir(dir, { recursive: true });
  const certPath = join(dir, `${name}.crt`);
  const keyPath = join(dir, `${name}.key`);
  await refuseExisting(certPath, keyPath);
  const tmp = await mkdtemp(join(dir, `.${name}-`));
  try {
    await chmod(tmp, 0o700);
    const ext = join(tmp, "ext.cnf");
    await writeFile(
      ext,
      "[req]\ndistinguished_name=dn\nx509_extensions=v3\n[dn]\n[v3]\nbasicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\n",
    );
    await openssl([
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-nodes",
      "-keyout",
      join(tmp, "key"),
      "-out",
      join(tmp, "crt"),
      "-days",
      String(days),
      "-subj",
      `/CN=${name}`,
      "-config",
      ext,
    ]);
    await chmod(join(tmp, "key"), 0o600);
    await rename(join(tmp, "key"), keyPath);
    await rename(join(tmp, "crt"), certPath);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  return { certPath, keyPath, notAfter: await notAfterOf(certPath) };
}

export interface IssueOptions {
  caCert: string;
  caKey: string;
  /** The certificate's common name: the pillar id (client) or a broker name (server). */
  cn: string;
  outDir: string;
  /** File name stem; default the CN. */
  name?: string;
  days?: number;
  /** "client" (a pillar or the center) or "server" (a broker; `altNames` become its SAN). */
  usage?: "client" | "server";
  /** Server names, e.g. ["DNS:mqtt.example", "IP:127.0.0.1"]. */
  altNames?: string[];
}

/** Issue a certificate from the fleet CA: OUT/NAME.crt (with nothing else) and OUT/NAME.key (0600). */
export async function issueCertificate(o: IssueOptions): Promise<IssuedFiles> {
  checkCommonName(o.cn);
  const name = o.name ?? o.cn;
  checkCommonName(name);
  await mkdir(o.outDir, { recursive: true });
  const certPath = join(o.outDir, `${name}.crt`);
  const keyPath = join(o.outDir, `${name}.key`);
  await refuseExisting(certPath, keyPath);
  const tmp = await mkdtemp(join(o.outDir, `.${name}-`));
  try {
    await chmod(tmp, 0o700);
    const server = o.usage === "server";
    const ext = [
      "basicConstraints=critical,CA:FALSE",
      `keyUsage=critical,digitalSignature${server ? ",keyEncipherment" : ""}`,
      `extendedKeyUsage=${server ? "serverAuth" : "clientAuth"}`,
      ...(o.altNames?.length ? [`subjectAltName=${o.altNames.join(",")}`] : []),
    ].join("\n");
    await writeFile(join(tmp, "ext.cnf"), `${ext}\n`);
    await openssl([
      "req",
      "-new",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-nodes",
      "-keyout",
      join(tmp, "key"),
      "-out",
      join(tmp, "csr"),
      "-subj",
      `/CN=${o.cn}`,
    ]);
    await chmod(join(tmp, "key"), 0o600);
    await openssl([
      "x509",
      "-req",
      "-in",
      join(tmp, "csr"),
      "-CA",
      o.caCert,
      "-CAkey",
      o.caKey,
      "-set_serial",
      `0x${randomBytes(16)
        .toString("hex")
        .replace(/^[89a-f]/, "1")}`,
      "-days",
      String(o.days ?? 825),
      "-sha256",
      "-extfile",
      join(tmp, "ext.cnf"),
      "-out",
      join(tmp, "crt"),
    ]);
    await rename(join(tmp, "key"), keyPath);
    await rename(join(tmp, "crt"), certPath);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  return { certPath, keyPath, notAfter: await notAfterOf(certPath) };
}

async function notAfterOf(path: string): Promise<string> {
  return new Date(new X509Certificate(await readFile(path)).validTo).toISOString();
}
