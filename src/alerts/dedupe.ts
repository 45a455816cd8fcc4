// Which alerts go out: the same event for the same service at most once per window, so
// a flapping service cannot flood the pager. Pure: the caller passes the clock.

export type DedupeVerdict =
  /** Send it; `suppressed` repeats were held back since the last one that went out. */
  | { send: true; suppressed: number }
  /** A repeat inside the window: held back and counted. */
  | { send: false; suppressed: number };

interface Entry {
  sentAt: number;
  suppressed: number;
}

/** The dedupe key: the event and what it is about (a service, or the services of a failover). */
export function dedupeKey(e: { event: string; service?: unknown; services?: unknown }): string {
  const about = typeof e.service === 'string' ? e.service : Array.isArray(e.services) ? e.services.join(',') : '';
  return `${e.event}\u0000${about}`;
}

export class Deduper {
  private readonly entries = new Map<string, Entry>();

  /** windowMs 0 sends everything. */
  constructor(private readonly windowMs: number) {}

  check(key: string, now: number): DedupeVerdict {
    this.prune(now);
    const entry = this.entries.get(key);
    // The window runs from the last one sent, so a steady flap still yields one alert per window.
    if (entry && now - entry.sentAt < this.windowMs) {
      entry.suppressed += 1;
      return { send: false, suppressed: entry.suppressed };
    }
    const suppressed = entry?.suppressed ?? 0;
    this.entries.set(key, { sentAt: now, suppressed: 0 });
    return { send: true, suppressed };
  }

  /** Keys remembered (for tests: the map must not grow without bound). */
  get size(): number {
    return this.entries.size;
  }

  // An expired entry with nothing held back has no count left to report: forget it.
  // One with repeats held back stays until the next alert for its key carries the count.
  private prune(now: number): void {
    for (const [key, e] of this.entries) {
      if (e.suppressed === 0 && now - e.sentAt >= this.windowMs) this.entries.delete(key);
    }
  }
}
