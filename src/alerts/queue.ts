// One destination's deliveries, one at a time and in order (service.down before the
// failover it led to), with a bound on what waits: a destination that is down for
// hours must not grow the agent's memory, so past `max` the oldest waiting is dropped.

export interface QueueHooks<T> {
  /** `item` was dropped to make room; `n` counts the drops since the queue last ran empty. */
  onDrop(item: T, n: number): void;
  /** The queue ran empty after dropping `n` items since it last did. */
  onDrained?(n: number): void;
}

export class DeliveryQueue<T> {
  private readonly items: T[] = [];
  private active: Promise<void> = Promise.resolve();
  private running = false;
  private inFlight = false;
  private dropped = 0;

  constructor(
    private readonly deliver: (item: T) => Promise<void>,
    private readonly max: number,
    private readonly hooks: QueueHooks<T>,
  ) {}

  /** Queues `item` and returns at once; delivery starts on a later tick. */
  push(item: T): void {
    if (this.items.length >= this.max) {
      const oldest = this.items.shift() as T;
      this.dropped += 1;
      this.hooks.onDrop(oldest, this.dropped);
    }
    this.items.push(item);
    if (this.running) return;
    this.running = true;
    // Started on a later tick so nothing of the delivery runs inside the caller's call.
    this.active = Promise.resolve().then(() => this.run());
  }

  /** Waiting, not counting the one being delivered. */
  get pending(): number {
    return this.items.length;
  }

  /** Waiting plus the one being delivered. */
  get outstanding(): number {
    return this.items.length + (this.inFlight ? 1 : 0);
  }

  /** Resolves once nothing waits and nothing is being delivered. */
  idle(): Promise<void> {
    return this.active;
  }

  /** Forgets what waits (shutdown); returns how many. */
  clear(): number {
    const n = this.items.length;
    this.items.length = 0;
    return n;
  }

  private async run(): Promise<void> {
    for (let item = this.items.shift(); item !== undefined; item = this.items.shift()) {
      this.inFlight = true;
      try {
        await this.deliver(item);
      } catch {
        // deliver reports its own failures; one that throws anyway must not stop the queue
      } finally {
        this.inFlight = false;
      }
    }
    // Same tick as the last empty shift(): a push() from here on starts a new run.
    this.running = false;
    const dropped = this.dropped;
    this.dropped = 0;
    try {
      if (dropped > 0) this.hooks.onDrained?.(dropped);
    } catch {
      // a hook that throws must not turn idle() into a rejection
    }
  }
}
