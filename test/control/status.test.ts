// The status report (its JSON shape) and its table, from a made-up agent state.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PollResult } from '../../src/agent/agent.js';
import { RecentActions } from '../../src/agent/recent-actions.js';
import { buildStatus, vipHeld, type StatusInput } from '../../src/control/status.js';
import { formatStatus, human, table } from '../../src/control/status-format.js';
import { parseConfig } from '../../src/config/load.js';
import { freshMemory } from '../../src/policy/decide.js';

const NOW = Date.parse('2026-11-25T13:40:00Z');
const config = parseConfig(
  `interval: 3s
services:
  tomcat:
    process: { name: java }
    http: { url: "http://127.0.0.1:8080/" }
    restart: { command: [/bin/true] }
  nginx:
    critical: false
    process: { name: nginx }
keepalived:
  start: { command: [/bin/true] }
  vip: { url: "http://192.168.56.70/" }
`,
  '/etc/ha-watchdog/watchdog.yaml',
);
const ifaces = { lo: [{ address: '127.0.0.1' }], eth0: [{ address: '192.168.56.11' }, { address: '192.168.56.70' }] } as unknown as NodeJS.Dict<import('node:os').NetworkInterfaceInfo[]>;

function input(): StatusInput {
  const memory = freshMemory();
  memory.services.tomcat = { health: 'up', good: 2, bad: 0, since: NOW - 300_000, phase: 'idle', attempt: 0, failed: false, restarts: [NOW - 700_000, NOW - 120_000], startMs: 21_400, startFrom: 'restart', startAt: NOW - 120_000 + 22_000 };
  memory.services.nginx = { health: 'down', good: 0, bad: 2, since: NOW - 90_000, phase: 'idle', attempt: 1, failed: true, failedReason: '1 restart attempt(s) failed, last: exit code 1', backoffMs: 20_000, nextHealAt: NOW + 15_000, restarts: [NOW - 60_000] };
  memory.maintenance = { since: NOW - 60_000, until: NOW + 1_740_000, reason: 'deploy tomcat' };
  Object.assign(memory.maintenance, { by: 'alice (sudo)' });
  const last: PollResult = {
    observations: {
      services: {
        tomcat: { ok: true, probes: [{ probe: 'process', ok: true, durationMs: 0.42, pids: [812] }, { probe: 'http', ok: true, durationMs: 3.1 }] },
        nginx: { ok: false, probes: [{ probe: 'process', ok: false, reason: 'no nginx process', durationMs: 0.2 }] },
      },
      keepalived: { running: true, pids: [900, 901] },
      vip: { ok: true },
      outcomes: [],
    },
    actions: [],
    events: [],
    durationMs: 14,
    scans: 0,
  };
  const recent = new RecentActions();
  const rec = recent.started({ kind: 'restart', target: 'nginx', attempt: 1, reason: 'down: process: no nginx process' }, NOW - 60_000, false);
  recent.finished(rec, { target: 'nginx', kind: 'restart', ok: false, reason: 'command failed: exit code 1', startedAt: NOW - 60_000, finishedAt: NOW - 58_500 });
  recent.started({ kind: 'restart', target: 'tomcat', attempt: 1, reason: 'down: http: status 503' }, NOW - 2000, false);
  return { config, memory, last, lastPollAt: NOW - 1000, actions: recent.list(), agent: { pid: 4242, version: '0.1.0', startedAt: NOW - 7_380_000, dryRun: false }, now: NOW, interfaces: ifaces };
}

describe('status: the JSON report', () => {
  it('has every documented key, with nulls where nothing applies', () => {
    const s = buildStatus(input());
    assert.deepEqual(Object.keys(s), ['format', 'host', 'generatedAt', 'agent', 'lastPoll', 'healthy', 'maintenance', 'services', 'keepalived', 'vip', 'lastActions']);
    assert.equal(s.format, 1);
    assert.equal(s.generatedAt, '2026-11-25T13:40:00.000Z');
    assert.deepEqual(s.agent, { pid: 4242, version: '0.1.0', startedAt: '2026-11-25T11:37:00.000Z', config: '/etc/ha-watchdog/watchdog.yaml', interval: '3s', dryRun: false });
    assert.deepEqual(s.lastPoll, { at: '2026-11-25T13:39:59.000Z', durationMs: 14 });
    assert.equal(s.healthy, true, 'nginx is not critical');
    assert.deepEqual(s.maintenance, { paused: true, since: '2026-11-25T13:39:00.000Z', until: '2026-11-25T14:09:00.000Z', remainingMs: 1_740_000, reason: 'deploy tomcat', by: 'alice (sudo)', switchover: false });
    assert.deepEqual(s.services.tomcat, {
      critical: true,
      state: 'up',
      health: 'up',
      since: '2026-11-25T13:35:00.000Z',
      phase: 'idle',
      failed: false,
      failedReason: null,
      attempt: 0,
      graceUntil: null,
      lastPoll: {
        ok: true,
        probes: [
          { probe: 'process', ok: true, durationMs: 0.42, reason: null, pids: [812] },
          { probe: 'http', ok: true, durationMs: 3.1, reason: null, pids: null },
        ],
      },
      restarts: { inWindow: 1, budget: 5, windowMs: 600_000, nextAllowedAt: null },
      backoff: null,
      start: { ms: 21_400, from: 'restart', at: '2026-11-25T13:38:22.000Z' },
      deathNotice: null,
    });
    assert.equal(s.services.nginx!.state, 'failed');
    assert.deepEqual(s.services.nginx!.backoff, { ms: 20_000, nextTryAt: '2026-11-25T13:40:15.000Z' });
    assert.deepEqual(s.keepalived, { running: true, pids: [900, 901], reason: null, phase: 'idle', failedOver: false, failoverReason: null, failoverHeld: false, failoverHeldReason: null, nextStartAt: null, runningSince: null, handoverMs: null, deathNotice: null });
    assert.deepEqual(s.vip, { url: 'http://192.168.56.70/', address: '192.168.56.70', held: true, note: null, answering: true });
    assert.deepEqual(
      s.lastActions.map((a) => [a.target, a.result, a.durationMs, a.reason]),
      [
        ['tomcat', 'running', null, null],
        ['nginx', 'failed', 1500, 'command failed: exit code 1'],
      ],
    );
  });

  it('deathNotice: how each process death is noticed, as the daemon says (JSON per service and keepalived; one text line)', () => {
    const how: Record<string, 'systemd' | 'kernel' | 'timer' | null> = { tomcat: 'systemd', nginx: 'timer', keepalived: 'kernel' };
    const s = buildStatus({ ...input(), deathNotice: (owner) => how[owner] ?? null });
    assert.deepEqual([s.services.tomcat!.deathNotice, s.services.nginx!.deathNotice, s.keepalived.deathNotice], ['systemd', 'timer', 'kernel']);
    assert.match(formatStatus(s), /^DEATHS SEEN {2}by systemd \(D-Bus\): tomcat; by the kernel \(pidwait\): keepalived; by reading \/proc every 250 ms: nginx$/m);
  });

  it('an expired pause not yet cleared by a poll reads as not paused', () => {
    const i = input();
    i.memory.maintenance!.until = NOW - 1;
    assert.equal(buildStatus(i).maintenance.paused, false);
  });

  it('before the first poll: lastPoll and keepalived.running are null', () => {
    const i = { ...input(), last: undefined, lastPollAt: undefined };
    const s = buildStatus(i);
    assert.equal(s.lastPoll, null);
    assert.equal(s.keepalived.running, null);
    assert.equal(s.services.tomcat!.lastPoll, null);
    assert.equal(s.vip.answering, null);
  });

  it('VIP held: from this host\'s addresses; "unknown" without an address to look for', () => {
    assert.equal(vipHeld('http://192.168.56.70/', ifaces).held, true);
    assert.equal(vipHeld('http://192.168.56.71:8080/x', ifaces).held, false);
    const v6 = { eth0: [{ address: 'fd00::70' }] } as unknown as Parameters<typeof vipHeld>[1];
    assert.deepEqual(vipHeld('http://[FD00::70]/', v6), { url: 'http://[FD00::70]/', address: 'fd00::70', held: true, note: null });
    assert.deepEqual(vipHeld(undefined, ifaces), { url: null, address: null, held: 'unknown', note: 'no keepalived.vip configured' });
    assert.equal(vipHeld('http://www.example.com/', ifaces).held, 'unknown');
  });
});

describe('status: the table', () => {
  it('header, maintenance, one row per service with failing probes under it, keepalived, VIP, last actions', () => {
    const text = formatStatus(buildStatus(input()));
    const lines = text.split('\n');
    assert.match(lines[0]!, /^ha-watchdog 0\.1\.0 on \S+ \(pid 4242, up 2h03m\), polling every 3s$/);
    assert.equal(lines[1], 'last poll 1s ago (14 ms); healthy');
    assert.match(text, /^MAINTENANCE {2}PAUSED since \d\d:\d\d:00 by alice \(sudo\), until \d\d:\d\d:00 \(29m left\): deploy tomcat$/m);
    const header = lines.findIndex((l) => l.startsWith('SERVICE'));
    assert.match(lines[header]!, /^SERVICE +STATE +SINCE +LAST PROBES +STARTS IN +RESTARTS +BACKOFF$/);
    const col = (name: string) => lines[header]!.indexOf(name);
    const tomcat = lines[header + 1]!;
    const nginx = lines[header + 2]!;
    assert.match(tomcat, /^tomcat +up +\d\d:\d\d:00 \(5m\) +process ok 0\.4ms, http ok 3\.1ms +21s +1\/5 in 10m +-$/);
    assert.match(nginx, /^nginx +failed \(non-critical\) +\d\d:\d\d:30 \(1m30s\) +process FAIL 0\.2ms +- +1\/5 in 10m +20s, next try \d\d:\d\d:15 \(in 15s\)$/);
    for (const row of [tomcat, nginx]) {
      assert.equal(row.indexOf('1/5'), col('RESTARTS'), 'columns line up');
    }
    assert.equal(lines[header + 3], '  nginx process: no nginx process');
    assert.equal(lines[header + 4], '  nginx failed: 1 restart attempt(s) failed, last: exit code 1');
    assert.match(text, /^KEEPALIVED {3}running \(pids 900 901\)$/m);
    assert.match(text, /^VIP {10}192\.168\.56\.70 held by this host, answers$/m);
    assert.doesNotMatch(text, /^DEATHS SEEN/m, 'nothing said when the daemon did not say');
    assert.match(text, /^LAST ACTIONS\nSTARTED +TARGET +ACTION +RESULT +TOOK +WHY \/ OUTCOME\n\d\d:\d\d:58 +tomcat +restart #1 +running +- +down: http: status 503\n\d\d:\d\d:00 +nginx +restart #1 +failed +1\.5s +down: process: no nginx process -> command failed: exit code 1\n$/m);
  });

  it('not paused, no VIP configured, keepalived stopped by a failover', () => {
    const i = input();
    delete i.memory.maintenance;
    i.memory.keepalived.release.active = true;
    i.memory.keepalived.release.reason = 'tomcat: 1 restart attempt(s) failed';
    i.last!.observations.keepalived = { running: false, pids: [] };
    i.config = { ...config, keepalived: { ...config.keepalived, vip: undefined } };
    const text = formatStatus(buildStatus({ ...i, actions: [] }));
    assert.match(text, /^MAINTENANCE {2}not paused$/m);
    assert.match(text, /^KEEPALIVED {3}NOT running; failed over: tomcat: 1 restart attempt\(s\) failed$/m);
    assert.match(text, /^VIP {10}unknown \(no keepalived\.vip configured\)$/m);
    assert.match(text, /^LAST ACTIONS none$/m);
  });

  it('helpers: human durations, aligned columns', () => {
    assert.deepEqual([850, 1500, 2000, 12_000, 312_000, 7_380_000, 97_200_000].map(human), ['850ms', '1.5s', '2s', '12s', '5m12s', '2h03m', '1d3h']);
    assert.deepEqual(table([['A', 'BB', 'C'], ['aaa', 'b', 'c c']]), ['A    BB  C', 'aaa  b   c c']);
  });
});
