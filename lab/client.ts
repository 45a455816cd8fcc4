// The client namespace C: polls the VIP and records who answered.
// The poller itself is lab/client-main.ts, run inside C as a child process
// writing JSON lines; this class starts/stops it and reads the timeline.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { netnsExecArgv } from './netns.js';
import { waitFor } from './wait.js';

export type Who = 'A' | 'B' | 'error';

export interface Sample {
  /** Epoch ms when the request was sent. */
  t: number;
  who: Who;
  /** Latency (or time until the error), ms. */
  ms: number;
  status?: number;
  /** nginx that answered (X-Lab-Host), also on a 502. */
  lb?: string;
  error?: string;
}

/** A run of consecutive samples with the same `who`. */
export interface Segment {
  who: Who;
  /** t of the first sample. */
  from: number;
  /** t of the last sample. */
  to: number;
  count: number;
}

export interface ClientOptions {
  /** Default 50 ms. */
  intervalMs?: number;
  /** Per-request budget, default 300 ms. */
  timeoutMs?: number;
  /** The client stops by itself after this long. Default 5 min. */
  maxMs?: number;
}

export function segments(samples: Sample[]): Segment[] {
  const out: Segment[] = [];
  for (const s of samples) {
    const last = out[out.length - 1];
    if (last && last.who === s.who) {
      last.to = s.t;
      last.count += 1;
    } else {
      out.push({ who: s.who, from: s.t, to: s.t, count: 1 });
    }
  }
  return out;
}

/** A stretch of consecutive errors seen by the client. */
export interface Outage {
  /** t of the first failed request. */
  from: number;
  /** t of the next successful request (or of the last failed one if none followed). */
  to: number;
  ms: number;
  count: number;
  /** Whether a success followed (false: still failing at the end of the timeline). */
  recovered: boolean;
}

export function outages(samples: Sample[]): Outage[] {
  const out: Outage[] = [];
  let cur: Outage | undefined;
  for (const s of samples) {
    if (s.who === 'error') {
      if (!cur) cur = { from: s.t, to: s.t, ms: 0, count: 0, recovered: false };
      cur.count += 1;
      cur.to = s.t;
    } else if (cur) {
      cur.to = s.t;
      cur.recovered = true;
      cur.ms = cur.to - cur.from;
      out.push(cur);
      cur = undefined;
    }
  }
  if (cur) {
    cur.ms = cur.to - cur.from;
    out.push(cur);
  }
  return out;
}

export class Client {
  private child?: ChildProcess;
  private exited?: Promise<void>;
  private runs = 0;
  private file?: string;

  constructor(
    private readonly ns: string,
    private readonly url: string,
    private readonly dir: string,
    private readonly repo: string,
  ) {}

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The JSON-lines file of the current (or last) run. */
  get timelineFile(): string | undefined {
    return this.file;
  }

  /** Starts polling from namespace C; resolves once the first sample is recorded. */
  async start(opts: ClientOptions = {}): Promise<void> {
    if (this.running) throw new Error('client already running');
    this.runs += 1;
    const file = join(this.dir, `timeline-${this.runs}.jsonl`);
    this.file = file;
    const argv = netnsExecArgv(this.ns, [
      process.execPath,
      '--import',
      'tsx',
      join(this.repo, 'lab', 'client-main.ts'),
      '--url',
      this.url,
      '--out',
      file,
      '--interval-ms',
      String(opts.intervalMs ?? 50),
      '--timeout-ms',
      String(opts.timeoutMs ?? 300),
      '--max-ms',
      String(opts.maxMs ?? 300_000),
    ]);
    let stderr = '';
    const child = spawn(argv[0]!, argv.slice(1), { cwd: this.repo, stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (c: string) => {
      if (stderr.length < 8192) stderr += c;
    });
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    try {
      await waitFor(() => {
        if (!this.running) throw new Error(`client exited: ${stderr.trim()}`);
        return existsSync(file) && readFileSync(file, 'utf8').includes('\n');
      }, 15_000, { what: 'the first client sample', intervalMs: 50 });
    } catch (e) {
      await this.stop();
      throw e;
    }
  }

  /** Stops polling (SIGTERM, then SIGKILL after 3 s). Idempotent. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
    await this.exited;
    clearTimeout(timer);
  }

  /** Samples recorded so far by the current (or last) run. */
  timeline(): Sample[] {
    if (!this.file || !existsSync(this.file)) return [];
    const out: Sample[] = [];
    for (const line of readFileSync(this.file, 'utf8').split('\n')) {
      if (!line) continue;
      try {
        out.push(JSON.parse(line) as Sample);
      } catch {
        // partial last line
      }
    }
    return out;
  }

  segments(): Segment[] {
    return segments(this.timeline());
  }

  outages(): Outage[] {
    return outages(this.timeline());
  }

  last(): Sample | undefined {
    const t = this.timeline();
    return t[t.length - 1];
  }

  /** Waits until the last `consecutive` samples all came from `who`. */
  /** `since`: only requests sent from then on count (epoch ms), so answers from before an event cannot satisfy it. */
  async waitForWho(who: Who, timeoutMs: number, consecutive = 3, since = 0): Promise<void> {
    await waitFor(
      () => {
        const t = this.timeline()
          .filter((s) => s.t >= since)
          .slice(-consecutive);
        return t.length === consecutive && t.every((s) => s.who === who);
      },
      timeoutMs,
      { what: `${consecutive} consecutive client samples from ${who}`, intervalMs: 50 },
    );
  }
}
