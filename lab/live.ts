// A live, readable timeline of a running lab: what each agent logged (and why),
// who holds the VIP, what the client sees. Used by lab/demo.ts.
//
//   +2.01s  A  service.down     tomcat: process: no running process "java" ...
//   +3.62s  VIP A → none
//   +3.85s  client  B answers (after 61 failed requests over 3.3 s)
import { setTimeout as sleep } from 'node:timers/promises';
import type { Sample } from './client.js';
import type { AgentEvent } from './events.js';
import type { HostName } from './host.js';
import type { Lab } from './lab.js';
import { VipSampler, type VipHolder } from './vip.js';

export interface LiveOptions {
  /** Where lines go (default: console.log). */
  print?: (line: string) => void;
  /** Event names not printed (counted instead). Default: poll.slow, poll.missed. */
  quiet?: string[];
  /** Max characters of an event's reason. Default 110. */
  width?: number;
  /** ANSI colours (default: when stdout is a TTY). */
  color?: boolean;
}

const C = { dim: '\x1b[2m', red: '\x1b[31m', green: '\x1b[32m', yellow: '\x1b[33m', blue: '\x1b[34m', bold: '\x1b[1m', off: '\x1b[0m' };

function shorten(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}

/** One event as "service: reason" with the useful extras (attempt, command output, durations). */
export function describeEvent(e: AgentEvent, width = 110): string {
  const parts: string[] = [];
  if (e.service) parts.push(String(e.service));
  if (Array.isArray(e.services)) parts.push((e.services as string[]).join(', '));
  const extra: string[] = [];
  if (e.event === 'action.done' || e.event === 'action.failed') {
    if (e.action) extra.push(String(e.action));
    if (e.exitCode !== undefined) extra.push(`exit ${String(e.exitCode)}`);
    if (typeof e.durationMs === 'number') extra.push(`${e.durationMs} ms`);
    if (typeof e.output === 'string' && e.output.trim()) extra.push(`"${shorten(e.output.trim().split('\n').pop() ?? '', 60)}"`);
  } else {
    if (e.event === 'restart.ok' && typeof e.durationMs === 'number') extra.push(`${(e.durationMs / 1000).toFixed(1)} s after the restart began`);
    if (e.event === 'service.failed' && typeof e.nextTryInMs === 'number') extra.push(`next try in ${Math.round(e.nextTryInMs / 1000)} s`);
    if (e.reason) extra.push(String(e.reason));
  }
  const head = parts.join(' ');
  let body = extra.join('; ').replace(/ with args matching \/(?:[^/\\]|\\.)*\//g, ' with matching args');
  if (head && body.startsWith(`${head}: `)) body = body.slice(head.length + 2);
  const text = [head, body].filter(Boolean).join(': ');
  return shorten(text, width);
}

export class LiveTimeline {
  private origin = Date.now();
  private readonly seen: Record<HostName, number> = { A: 0, B: 0 };
  private clientSeen = 0;
  private lastWho?: Sample['who'];
  private errorRun?: { from: number; n: number; first: Sample };
  private lastVip?: VipHolder;
  private readonly sampler: VipSampler;
  private stopping = false;
  private loop?: Promise<void>;
  /** Hidden events (poll.slow ...) since the last origin, per name. */
  hidden: Record<string, number> = {};
  private readonly print: (line: string) => void;
  private readonly quiet: Set<string>;
  private readonly width: number;
  private readonly color: boolean;

  constructor(
    private readonly lab: Lab,
    opts: LiveOptions = {},
  ) {
    this.print = opts.print ?? ((l) => console.log(l));
    this.quiet = new Set(opts.quiet ?? ['poll.slow', 'poll.missed']);
    this.width = opts.width ?? 110;
    this.color = opts.color ?? Boolean(process.stdout.isTTY);
    this.sampler = new VipSampler(() => lab.vipHolder(), 150);
  }

  private c(code: keyof typeof C, s: string): string {
    return this.color ? `${C[code]}${s}${C.off}` : s;
  }

  /** Times are printed relative to this moment from now on. */
  setOrigin(t = Date.now()): void {
    this.origin = t;
    this.hidden = {};
  }

  private rel(t: number): string {
    const s = (t - this.origin) / 1000;
    return `${s >= 0 ? '+' : '-'}${Math.abs(s).toFixed(2)}s`.padStart(8);
  }

  /** Prints a line stamped with the current time. */
  note(text: string, t = Date.now()): void {
    this.print(`${this.c('dim', this.rel(t))}  ${text}`);
  }

  /** Starts following the lab (every 100 ms, bounded by stop() or 10 minutes). */
  start(): this {
    // Events logged before now are old news.
    for (const h of ['A', 'B'] as const) this.seen[h] = this.lab.agentEvents(h).length;
    this.clientSeen = this.lab.client.timeline().length;
    this.sampler.start();
    const until = Date.now() + 600_000;
    this.loop = (async () => {
      while (!this.stopping && Date.now() < until) {
        this.tick();
        await sleep(100);
      }
      this.tick();
    })();
    return this;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.loop;
    await this.sampler.stop();
  }

  /** Who holds the VIP, as last sampled. */
  get vipHolder(): VipHolder | undefined {
    return this.lastVip;
  }

  private tick(): void {
    type Line = { t: number; text: string };
    const lines: Line[] = [];
    for (const h of ['A', 'B'] as const) {
      const evs = this.lab.agentEvents(h);
      for (const e of evs.slice(this.seen[h])) {
        if (this.quiet.has(e.event)) {
          this.hidden[e.event] = (this.hidden[e.event] ?? 0) + 1;
          continue;
        }
        const colour = /failed|failover|down|unserved|running_again/.test(e.event)
          ? 'red'
          : /stop/.test(e.event)
            ? 'yellow'
            : /ok|up|start$|served|recovered|done/.test(e.event)
              ? 'green'
              : 'dim';
        lines.push({ t: e.t ?? Date.now(), text: `${this.c('bold', h)} agent  ${this.c(colour, e.event.padEnd(16))} ${describeEvent(e, this.width)}` });
      }
      this.seen[h] = evs.length;
    }
    for (const s of this.sampler.samples) {
      if (s.holder === this.lastVip) continue;
      if (this.lastVip !== undefined) lines.push({ t: s.t, text: `${this.c('blue', 'VIP')}      held by ${this.lastVip} → ${this.c('bold', s.holder)}` });
      this.lastVip = s.holder;
    }
    this.sampler.samples.splice(0, Math.max(0, this.sampler.samples.length - 1));
    const tl = this.lab.client.timeline();
    for (const s of tl.slice(this.clientSeen)) {
      if (s.who === 'error') {
        if (!this.errorRun) {
          this.errorRun = { from: s.t, n: 0, first: s };
          const why = s.status ? `HTTP ${s.status}${s.lb ? ` from ${s.lb}'s nginx` : ''}` : s.error ?? 'error';
          lines.push({ t: s.t, text: `${this.c('red', 'client')}   requests fail (${why})` });
        }
        this.errorRun.n += 1;
      } else if (s.who !== this.lastWho || this.errorRun) {
        const after = this.errorRun ? ` (after ${this.errorRun.n} failed request(s) over ${((s.t - this.errorRun.from) / 1000).toFixed(1)} s)` : '';
        lines.push({ t: s.t, text: `${this.c('green', 'client')}   answered by ${this.c('bold', s.who)}${after}` });
        this.errorRun = undefined;
      }
      this.lastWho = s.who;
    }
    this.clientSeen = tl.length;
    lines.sort((a, b) => a.t - b.t);
    for (const l of lines) this.print(`${this.c('dim', this.rel(l.t))}  ${l.text}`);
  }
}
