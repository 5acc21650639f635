import type { PillarBus } from "../bus/events.js";
import type { CertInfo } from "./tls-credentials.js";

const DAY = 86_400_000;

/**
 * Raises the `uplink`/`cert.expiring` fault when the client certificate expires within
 * `warnDays` (checked on every load and twice a day), and clears it when a renewed one is in
 * place. An expired certificate means the broker will refuse the pillar: renew before.
 */
export class CertExpiryWatch {
  private raised = false;
  private timer: NodeJS.Timeout | undefined;
  private info: CertInfo | undefined;

  constructor(private readonly o: { bus: PillarBus; warnDays: () => number; now?: () => number }) {}

  check(info: CertInfo): void {
    this.info = info;
    if (!this.timer) {
      this.timer = setInterval(() => this.info && this.check(this.info), DAY / 2);
      this.timer.unref();
    }
    const now = this.o.now?.() ?? Date.now();
    const left = Date.parse(info.notAfter) - now;
    const expiring = left < this.o.warnDays() * DAY;
    if (expiring && !this.raised) {
      this.raised = true;
      const days = Math.floor(left / DAY);
      this.o.bus.emit("fault.raised", {
        component: "uplink",
        code: "cert.expiring",
        message:
          left <= 0
            ? `client certificate ${info.commonName} expired on ${info.notAfter}`
            : `client certificate ${info.commonName} expires on ${info.notAfter} (${days} days): renew it (pillar keys cert)`,
        at: now,
      });
    } else if (!expiring && this.raised) {
      this.raised = false;
      this.o.bus.emit("fault.cleared", { component: "uplink", code: "cert.expiring", at: now });
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
