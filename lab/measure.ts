// What the client saw, reduced to numbers: when it settled on a host, how many
// requests failed, and the path it took (A → error → B ...).
import { outages, type Sample, type Who } from './client.js';

/** Samples with from <= t <= to. */
export function between(samples: Sample[], from = 0, to = Infinity): Sample[] {
  return samples.filter((s) => s.t >= from && s.t <= to);
}

/** Failed requests in [from, to]. */
export function errorCount(samples: Sample[], from = 0, to = Infinity): number {
  return between(samples, from, to).filter((s) => s.who === 'error').length;
}

/**
 * Time the client spent failing in [from, to], ms: the sum of its outages (first
 * failed request to the next answered one; an outage still open at `to` counts
 * until its last failed request).
 */
export function errorMs(samples: Sample[], from = 0, to = Infinity): number {
  return outages(between(samples, from, to)).reduce((sum, o) => sum + o.ms, 0);
}

/**
 * Epoch ms of the first sample of the final uninterrupted run of `who` in
 * [from, to]: from then on, until `to`, every request was answered by `who`.
 * Undefined when the last sample of the window is not `who`.
 */
export function settledAt(samples: Sample[], who: Who, from = 0, to = Infinity): number | undefined {
  const w = between(samples, from, to);
  let i = w.length - 1;
  if (i < 0 || w[i]!.who !== who) return undefined;
  while (i > 0 && w[i - 1]!.who === who) i -= 1;
  return w[i]!.t;
}

/** True when the last `n` samples in [from, to] all came from `who`. */
export function endsOn(samples: Sample[], who: Who, n = 5, from = 0, to = Infinity): boolean {
  const w = between(samples, from, to).slice(-n);
  return w.length === n && w.every((s) => s.who === who);
}

/** Who answered, in order, runs collapsed: e.g. ['A', 'error', 'B']. */
export function whoPath(samples: Sample[], from = 0, to = Infinity): Who[] {
  const out: Who[] = [];
  for (const s of between(samples, from, to)) if (out[out.length - 1] !== s.who) out.push(s.who);
  return out;
}

/** Same, with the number of requests in each run: "A×20 → error×61 → B×296". */
export function pathText(samples: Sample[], from = 0, to = Infinity, counts = true): string {
  const runs: Array<{ who: Who; n: number }> = [];
  for (const s of between(samples, from, to)) {
    const last = runs[runs.length - 1];
    if (last?.who === s.who) last.n += 1;
    else runs.push({ who: s.who, n: 1 });
  }
  return runs.map((r) => (counts ? `${r.who}×${r.n}` : r.who)).join(' → ') || '(no samples)';
}

export function median(xs: number[]): number | undefined {
  if (!xs.length) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
