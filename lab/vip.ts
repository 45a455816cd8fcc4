// Who holds the VIP, sampled over time (from `ip -n <ns> addr`, i.e. the hosts'
// interfaces, not what the client sees).
import { setTimeout as sleep } from 'node:timers/promises';
import type { HostName } from './host.js';

export type VipHolder = HostName | 'none' | 'both';

export interface VipSample {
  /** Epoch ms when the sample was taken. */
  t: number;
  holder: VipHolder;
}

/** A run of consecutive samples with the same holder. */
export interface VipSegment {
  holder: VipHolder;
  from: number;
  to: number;
  count: number;
}

export function vipSegments(samples: VipSample[]): VipSegment[] {
  const out: VipSegment[] = [];
  for (const s of samples) {
    const last = out[out.length - 1];
    if (last && last.holder === s.holder) {
      last.to = s.t;
      last.count += 1;
    } else {
      out.push({ holder: s.holder, from: s.t, to: s.t, count: 1 });
    }
  }
  return out;
}

/**
 * Samples `holder()` every `intervalMs` in the background until stop() (or
 * `maxMs`, default 10 min: the loop is always bounded). A failed sample (e.g.
 * the namespace is being deleted) is skipped.
 */
export class VipSampler {
  readonly samples: VipSample[] = [];
  private stopping = false;
  private loop?: Promise<void>;

  constructor(
    private readonly holder: () => Promise<VipHolder>,
    private readonly intervalMs = 200,
    private readonly maxMs = 600_000,
  ) {}

  start(): this {
    if (this.loop) throw new Error('VIP sampler already started');
    const until = Date.now() + this.maxMs;
    this.loop = (async () => {
      while (!this.stopping && Date.now() < until) {
        const t = Date.now();
        try {
          this.samples.push({ t, holder: await this.holder() });
        } catch {
          // skipped sample
        }
        await sleep(Math.max(0, this.intervalMs - (Date.now() - t)));
      }
    })();
    return this;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.loop;
  }

  /** The latest sample, if any. */
  last(): VipSample | undefined {
    return this.samples[this.samples.length - 1];
  }

  /** Distinct holders seen in [from, to] (epoch ms). */
  holdersBetween(from = 0, to = Infinity): Set<VipHolder> {
    return new Set(this.samples.filter((s) => s.t >= from && s.t <= to).map((s) => s.holder));
  }

  segments(from = 0, to = Infinity): VipSegment[] {
    return vipSegments(this.samples.filter((s) => s.t >= from && s.t <= to));
  }
}
