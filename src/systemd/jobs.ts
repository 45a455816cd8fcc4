// start / stop / restart a unit over the bus instead of forking systemctl: the
// Manager call queues a job and answers with its path at once; the job's end is the
// JobRemoved signal (id, job path, unit, result). As `systemctl` does, the signal is
// listened for before the call: the reply and JobRemoved can arrive in one read, and
// the signal is then handled before the reply's promise resolves.
//
// Needs the Manager's signals on this connection (manager.ts subscribe()).
import type { SystemBus } from './bus.js';
import type { SystemdError } from './errors.js';
import { managerCall } from './manager.js';

export type JobOp = 'start' | 'stop' | 'restart';

export interface JobOutcome {
  ok: boolean;
  op: JobOp;
  unit: string;
  /** systemd's job result: done, failed, canceled, timeout, dependency, skipped, ...; '' when none came. */
  result: string;
  /** The job's object path, once systemd named it. */
  job?: string;
  /** No JobRemoved within the timeout: the job may still run (it is not cancelled). */
  timedOut?: boolean;
  durationMs: number;
  error?: SystemdError;
}

export interface JobOptions {
  /** How long the job may take, from the call to JobRemoved. Default 60 s (restart.timeout's). */
  timeoutMs?: number;
  /** Default "replace", as systemctl. */
  mode?: 'replace' | 'fail';
  /** Called with the job's path as soon as systemd has queued it (before its end). */
  onQueued?: (job: string) => void;
}

/** What the agent's actions need of the jobs (notices.ts gives one over the daemon's connection). */
export interface UnitJobs {
  /** Why a job cannot go over the bus now (no system bus, the connection lost), or undefined when it can. */
  unavailable(): string | undefined;
  run(op: JobOp, unit: string, opts: JobOptions & { timeoutMs: number }): Promise<JobOutcome>;
}

export const JOB_TIMEOUT_MS = 60_000;
const METHOD: Record<JobOp, string> = { start: 'StartUnit', stop: 'StopUnit', restart: 'RestartUnit' };

export class Jobs {
  /** Job path -> who waits for its end. */
  private readonly waiting = new Map<string, (result: string) => void>();
  /** JobRemoved seen while some call had not been answered yet (job path -> result). */
  private readonly early = new Map<string, string>();
  private inFlight = 0;

  constructor(private readonly bus: SystemBus) {
    bus.onSignal((s) => {
      if (s.member !== 'JobRemoved' || s.interface !== 'org.freedesktop.systemd1.Manager') return;
      const [, job, , result] = s.body as [number, string, string, string];
      const w = this.waiting.get(job);
      if (w) w(result);
      else if (this.inFlight > 0) this.early.set(job, result);
    });
  }

  async run(op: JobOp, unit: string, opts: JobOptions = {}): Promise<JobOutcome> {
    const t0 = performance.now();
    const timeoutMs = opts.timeoutMs ?? JOB_TIMEOUT_MS;
    const outcome = (o: Omit<JobOutcome, 'op' | 'unit' | 'durationMs'>): JobOutcome => ({ op, unit, durationMs: Math.round(performance.now() - t0), ...o });
    this.inFlight++;
    const r = await this.bus.call(managerCall(METHOD[op], 'ss', [unit, opts.mode ?? 'replace'], timeoutMs), { op, unit });
    this.inFlight--;
    const job = r.ok && typeof r.value[0] === 'string' ? r.value[0] : undefined;
    const early = job !== undefined ? this.early.get(job) : undefined;
    if (this.inFlight === 0) this.early.clear();
    if (!r.ok) return outcome({ ok: false, result: '', error: r.error });
    if (job === undefined) return outcome({ ok: false, result: '', error: { op, unit, expected: 'a job path', seen: JSON.stringify(r.value) } });
    opts.onQueued?.(job);
    const result = early ?? (await this.waitFor(job, Math.max(0, timeoutMs - (performance.now() - t0))));
    if (result === 'done') return outcome({ ok: true, result, job });
    const seen = result === undefined ? `no JobRemoved for ${job} in ${timeoutMs} ms` : result === '' ? 'the bus connection ended' : `job result ${result}`;
    return outcome({ ok: false, result: result ?? '', job, ...(result === undefined && { timedOut: true }), error: { op, unit, expected: 'job result done', seen } });
  }

  /** The job's result; undefined on timeout, '' if the bus is lost meanwhile. */
  private waitFor(job: string, ms: number): Promise<string | undefined> {
    return new Promise((resolve) => {
      const end = (result: string | undefined) => {
        clearTimeout(timer);
        offLost();
        this.waiting.delete(job);
        resolve(result);
      };
      const timer = setTimeout(() => end(undefined), ms);
      const offLost = this.bus.onClosed(() => end(''));
      if (this.bus.closed) end('');
      else this.waiting.set(job, end);
    });
  }
}
