import { SerialPort } from "serialport";

/**
 * A man in the middle on the cable: forwards bytes between two serial ports (the inner ends of
 * two socat pairs). Lines from the installer side go through `edit`, which may change a line
 * (line noise) or return null to swallow it; the pillar's answers pass unchanged.
 */
export class SerialProxy {
  private ports: SerialPort[] = [];
  dataLines = 0;

  constructor(
    private readonly clientSide: string,
    private readonly pillarSide: string,
    private readonly edit: (line: string) => string | null,
  ) {}

  async start(): Promise<void> {
    const open = (path: string) =>
      new Promise<SerialPort>((resolve, reject) => {
        const p = new SerialPort({ path, baudRate: 115200, autoOpen: false });
        p.open((err) => (err ? reject(err) : resolve(p)));
      });
    const [c, p] = [await open(this.clientSide), await open(this.pillarSide)];
    this.ports = [c, p];
    for (const port of this.ports) port.on("error", () => undefined);
    p.on("data", (d: Buffer) => c.isOpen && c.write(d));
    let buf = "";
    c.on("data", (d: Buffer) => {
      buf += d.toString("utf8");
      let nl: number;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line.includes('"t":"DATA"')) this.dataLines++;
        const out = this.edit(line);
        if (out !== null && p.isOpen) p.write(`${out}\n`);
      }
    });
  }

  async stop(): Promise<void> {
    for (const p of this.ports) if (p.isOpen) await new Promise<void>((r) => p.close(() => r()));
    this.ports = [];
  }
}
