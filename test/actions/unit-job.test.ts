// restart.unit and keepalived's start/stop unit as actions: a systemd job over the
// daemon's bus (a stand-in UnitJobs here; test/systemd/agent.test.ts runs the real one)
// turned into the CommandResult every action returns, no process forked; without a bus,
// `systemctl <op> <unit>` forked (a recording stand-in here), said once per cause.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { execute, type ActionContext } from '../../src/actions/execute.js';
import { fromOutcome, planUnitJob, resetSaid, runUnitJob, type UnitJobs } from '../../src/actions/unit-job.js';
import { parseConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/log.js';
import type { Action } from '../../src/policy/types.js';
import type { JobOp, JobOutcome } from '../../src/systemd/jobs.js';

interface Call {
  op: JobOp;
  unit: string;
  timeoutMs: number;
}

/** A bus that answers each job with `answer` (after `ms`), recording what was asked. */
function fakeJobs(answer: (c: Call) => Partial<JobOutcome>, opts: { ms?: number; unavailable?: () => string | undefined } = {}): UnitJobs & { calls: Call[] } {
  const calls: Call[] = [];
  return {
    calls,
    unavailable: opts.unavailable ?? (() => undefined),
    async run(op, unit, o) {
      calls.push({ op, unit, timeoutMs: o.timeoutMs });
      const a = answer({ op, unit, timeoutMs: o.timeoutMs });
      if (a.job) o.onQueued?.(a.job);
      await new Promise((r) => setTimeout(r, opts.ms ?? 5));
      return { ok: false, op, unit, result: '', durationMs: opts.ms ?? 5, ...a };
    },
  };
}

describe('actions: systemd unit jobs', () => {
  let dir: string;
  let systemctl: string;
  let record: string;
  const lines: Array<Record<string, unknown>> = [];
  const log = createLogger({ level: 'debug', write: (l) => void lines.push(JSON.parse(l) as Record<string, unknown>) });
  const yaml = (restart: string, keepalived = 'keepalived:\n  start: { unit: keepalived.service, timeout: 2s }\n  stop: { unit: keepalived.service }\n') =>
    `stateDir: ${dir}/state\nservices:\n  tomcat:\n    process: { name: java }\n    restart: ${restart}\n${keepalived}`;
  const restart: Action = { kind: 'restart', target: 'tomcat', attempt: 1, reason: 'down: http refused' } as Action;
  const ctx = (config: string, extra: Partial<ActionContext> = {}): ActionContext => ({ config: parseConfig(config, 'w.yaml'), log, dryRun: false, keepalivedPids: [], systemctl, ...extra });
  const recorded = () => (existsSync(record) ? readFileSync(record, 'utf8').trim().split('\n').filter(Boolean) : []);

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'hwt-unit-job-'));
    record = join(dir, 'systemctl.calls');
    systemctl = join(dir, 'systemctl');
    // A stand-in systemctl: records its argv; fails for a unit named fail.service; hangs for slow.service.
    writeFileSync(systemctl, `#!/bin/sh\necho "$*" >> ${record}\ncase "$2" in fail.service) echo "Job for fail.service failed." >&2; exit 1;; slow.service) exec sleep 30;; esac\n`);
    chmodSync(systemctl, 0o755);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  beforeEach(() => {
    lines.length = 0;
    rmSync(record, { force: true });
    resetSaid();
  });

  it('restart.unit over the bus: one restart job with restart.timeout, the job path recorded when queued and logged; no process, no output file', async () => {
    const jobs = fakeJobs(() => ({ ok: true, result: 'done', job: '/org/freedesktop/systemd1/job/42' }));
    const queued: string[] = [];
    const spawned: number[] = [];
    const o = await execute(restart, ctx(yaml('{ unit: tomcat10.service, timeout: 7s }'), { jobs, onQueued: (_a, j) => queued.push(j), onSpawn: (_a, p) => spawned.push(p) }));
    assert.equal(o.ok, true);
    assert.deepEqual(jobs.calls, [{ op: 'restart', unit: 'tomcat10.service', timeoutMs: 7000 }]);
    assert.deepEqual(queued, ['/org/freedesktop/systemd1/job/42']);
    assert.deepEqual(spawned, []);
    assert.deepEqual(recorded(), [], 'no systemctl forked');
    assert.equal(existsSync(join(dir, 'state/output/tomcat.restart.log')), false, 'no command, no output file');
    const start = lines.find((l) => l.event === 'restart.start')!;
    assert.equal(start.command, 'restart tomcat10.service (systemd job over D-Bus)');
    assert.equal(start.unit, 'tomcat10.service');
    assert.equal(start.via, 'dbus');
    const done = lines.find((l) => l.event === 'action.done')!;
    assert.deepEqual([done.job, done.via, done.unit, done.exitCode], ['/org/freedesktop/systemd1/job/42', 'dbus', 'tomcat10.service', undefined]);
    assert.equal(typeof done.durationMs, 'number');
  });

  it('a failed job is a failed action: "job result failed" and the unit state, as the outcome reason', async () => {
    const jobs = fakeJobs(() => ({ result: 'failed', job: '/org/freedesktop/systemd1/job/7', error: { op: 'restart', unit: 'tomcat10.service', expected: 'job result done', seen: 'job result failed; unit failed (failed), result exit-code' } }));
    const o = await execute(restart, ctx(yaml('{ unit: tomcat10.service }'), { jobs }));
    assert.equal(o.ok, false);
    assert.equal(o.reason, 'job result failed; unit failed (failed), result exit-code');
    const failed = lines.find((l) => l.event === 'action.failed')!;
    assert.equal(failed.job, '/org/freedesktop/systemd1/job/7');
    assert.match(String(failed.msg), /^restart tomcat \(attempt 1\): failed: job result failed/);
  });

  it('a job past the timeout: failed, "timed out after", timedOut; the job is left to systemd, not cancelled', () => {
    const r = fromOutcome({ ok: false, op: 'restart', unit: 'u.service', result: '', job: '/org/freedesktop/systemd1/job/9', timedOut: true, durationMs: 60_001, error: { op: 'restart', unit: 'u.service', expected: 'job result done', seen: 'no JobRemoved for /org/freedesktop/systemd1/job/9 in 60000 ms' } }, 60_000);
    assert.deepEqual(r, { ok: false, timedOut: true, output: '', durationMs: 60_001, reason: 'timed out after 60000 ms: job /org/freedesktop/systemd1/job/9 still running, left to systemd (not cancelled)' });
  });

  it('a call systemd refuses (no such unit) names what was asked and what came back', () => {
    const r = fromOutcome({ ok: false, op: 'restart', unit: 'nope.service', result: '', durationMs: 3, error: { op: 'restart', unit: 'nope.service', expected: 'a reply to org.freedesktop.systemd1.Manager.RestartUnit', seen: 'org.freedesktop.systemd1.NoSuchUnit: Unit nope.service not found.' } }, 1000);
    assert.equal(r.ok, false);
    assert.equal(r.reason, 'restart nope.service: expected a reply to org.freedesktop.systemd1.Manager.RestartUnit, saw org.freedesktop.systemd1.NoSuchUnit: Unit nope.service not found.');
  });

  it('keepalived start/stop units: start and stop jobs with their own timeouts; no SIGTERM of a pid', async () => {
    const jobs = fakeJobs(({ op }) => ({ ok: true, result: 'done', job: `/job/${op}` }));
    const c = ctx(yaml('{ unit: tomcat10.service }'), { jobs, keepalivedPids: [999_999] });
    assert.equal((await execute({ kind: 'keepalived.stop', target: 'keepalived', reason: 'failover' } as Action, c)).ok, true);
    assert.equal((await execute({ kind: 'keepalived.start', target: 'keepalived', reason: 'healthy again' } as Action, c)).ok, true);
    assert.deepEqual(jobs.calls, [
      { op: 'stop', unit: 'keepalived.service', timeoutMs: 60_000 },
      { op: 'start', unit: 'keepalived.service', timeoutMs: 2000 },
    ]);
    assert.deepEqual(lines.filter((l) => l.event === 'keepalived.stop' || l.event === 'keepalived.start').map((l) => l.command), ['stop keepalived.service (systemd job over D-Bus)', 'start keepalived.service (systemd job over D-Bus)']);
  });

  it('no bus (check): systemctl <op> <unit> forked with the same timeout, output kept; said once, then not again', async () => {
    const c = ctx(yaml('{ unit: tomcat10.service }'));
    const spawned: number[] = [];
    const o1 = await execute(restart, { ...c, onSpawn: (_a, p) => spawned.push(p) });
    assert.equal(o1.ok, true, o1.reason);
    assert.deepEqual(recorded(), ['restart tomcat10.service']);
    assert.equal(spawned.length, 1, 'the forked systemctl is recorded like a command');
    assert.ok(existsSync(join(dir, 'state/output/tomcat.restart.log')));
    const start = lines.find((l) => l.event === 'restart.start')!;
    assert.deepEqual(start.command, [systemctl, 'restart', 'tomcat10.service']);
    assert.equal(start.via, 'systemctl');
    assert.match(String(start.msg), /\(this process has no D-Bus connection to systemd \(`check` makes none\): systemd unit jobs fork .*systemctl instead \(said once\)\)$/);
    lines.length = 0;
    await execute(restart, c);
    assert.doesNotMatch(String(lines.find((l) => l.event === 'restart.start')!.msg), /said once/);
    assert.equal(recorded().length, 2);
  });

  it('the bus lost (daemon): systemctl forked; its failure and its timeout are the command\'s (exit code, TERM)', async () => {
    const jobs = fakeJobs(() => ({ ok: true }), { unavailable: () => 'the D-Bus connection to systemd was lost (bus: closed)' });
    const failed = await execute(restart, ctx(yaml('{ unit: fail.service }'), { jobs }));
    assert.equal(jobs.calls.length, 0);
    assert.equal(failed.ok, false);
    assert.equal(failed.reason, 'exit code 1');
    assert.match(String(lines.find((l) => l.event === 'action.failed')!.output), /Job for fail\.service failed/);
    assert.match(String(lines.find((l) => l.event === 'restart.start')!.msg), /the D-Bus connection to systemd was lost \(bus: closed\): systemd unit jobs fork/);
    const t0 = performance.now();
    const slow = await execute(restart, ctx(yaml('{ unit: slow.service, timeout: 300ms }'), { jobs }));
    assert.equal(slow.ok, false);
    assert.match(slow.reason ?? '', /^timed out after 300 ms \(TERM, then KILL/);
    assert.ok(performance.now() - t0 < 5000);
  });

  it('the bus goes away between the plan and the call (nothing queued): systemctl asks instead', async () => {
    let lost: string | undefined;
    const jobs = fakeJobs(() => {
      lost = 'the D-Bus connection to systemd was lost (bus: gone)';
      return { error: { op: 'restart', unit: 'tomcat10.service', expected: 'a reply', seen: 'the bus closed the connection' } };
    }, { unavailable: () => lost });
    const plan = planUnitJob('restart', 'tomcat10.service', jobs, systemctl);
    assert.equal(plan.via, 'dbus');
    const r = await runUnitJob(plan, { jobs, timeoutMs: 5000, stateDir: join(dir, 'state'), name: 'tomcat.restart', systemctl });
    assert.equal(r.ok, true, r.reason);
    assert.equal(r.via, 'systemctl');
    assert.match(r.note ?? '', /bus: gone/);
    assert.deepEqual(recorded(), ['restart tomcat10.service']);
  });

  it('dry run: says what it would do over which path, runs nothing', async () => {
    const jobs = fakeJobs(() => ({ ok: true }));
    const o = await execute(restart, ctx(yaml('{ unit: tomcat10.service }'), { jobs, dryRun: true }));
    assert.equal(o.ok, true);
    assert.equal(jobs.calls.length, 0);
    assert.match(String(lines[0]!.msg), /^would restart tomcat/);
    assert.equal(lines[0]!.via, 'dbus');
  });
});
