// Whether this process is ready to serve: every condition holds. A condition is either set by the
// code that knows (the start loop: "Slack: authentication failed: ...") or checked on each request
// (the control Redis answers PING). Unready answers carry every reason.

export type ReadinessCheck = () => Promise<string | undefined>;

export class Readiness {
  private readonly blocked = new Map<string, string>();
  private readonly checks = new Map<string, ReadinessCheck>();

  /** Not ready for `reason` until clear(name). */
  block(name: string, reason: string): void {
    this.blocked.set(name, reason);
  }

  clear(name: string): void {
    this.blocked.delete(name);
  }

  /** A check run on every readiness request: it returns the reason it fails, or undefined. */
  check(name: string, fn: ReadinessCheck): void {
    this.checks.set(name, fn);
  }

  /** Drops a check (its subject is gone, e.g. the runtime closed). */
  uncheck(name: string): void {
    this.checks.delete(name);
  }

  async status(): Promise<{ ready: boolean; reasons: string[] }> {
    const reasons = [...this.blocked.values()];
    const results = await Promise.all(
      [...this.checks.values()].map((fn) => fn().catch((err: unknown) => String(err))),
    );
    for (const r of results) if (r !== undefined) reasons.push(r);
    return { ready: reasons.length === 0, reasons };
  }
}
