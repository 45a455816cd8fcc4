import assert from 'node:assert/strict';
import { chmodSync, existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadPids, loadState, pidsFile, savePids, saveState, stateFile } from '../../src/agent/state.js';
import { freshMemory } from '../../src/policy/decide.js';
import type { Memory } from '../../src/policy/types.js';

describe('agent: state file', () => {
  const dir = () => mkdtempSync(join(tmpdir(), 'haw-state-'));

  it('missing -> fresh memory, no warning', () => {
    const d = dir();
    assert.deepEqual(loadState(d), { memory: freshMemory(), events: [] });
    rmSync(d, { recursive: true });
  });

  it('saved state round-trips, and no temp file is left behind', () => {
    const d = dir();
    const m = freshMemory();
    m.services.tomcat = { health: 'down', good: 0, bad: 2, phase: 'grace', attempt: 1, failed: false, restarts: [123], graceUntil: 456 };
    saveState(d, m);
    assert.deepEqual(loadState(d).memory, m);
    assert.deepEqual(readdirSync(d), ['state.json']);
    rmSync(d, { recursive: true });
  });

  for (const [name, text] of [
    ['truncated', '{"version":1,"services":{"tomc'],
    ['not JSON', 'hello'],
    ['wrong version', '{"version":7,"services":{},"keepalived":{}}'],
    ['empty', ''],
  ]) {
    it(`${name} -> set aside with a warning, fresh memory`, () => {
      const d = dir();
      writeFileSync(stateFile(d), text!);
      const r = loadState(d, 42);
      assert.deepEqual(r.memory, freshMemory());
      assert.equal(r.events[0]!.event, 'state.corrupt');
      assert.match(String(r.events[0]!.reason), /set aside as .*state\.json\.corrupt-42/);
      assert.equal(readFileSync(join(d, 'state.json.corrupt-42'), 'utf8'), text);
      rmSync(d, { recursive: true });
    });
  }
});

describe('agent: state file, shape and safety', () => {
  const dir = () => mkdtempSync(join(tmpdir(), 'haw-state-'));

  /** Every field of the memory types, set. */
  const full = (): Memory => ({
    version: 1,
    services: {
      tomcat: {
        health: 'down',
        good: 0,
        bad: 3,
        since: 1000,
        phase: 'restarting',
        attempt: 2,
        attemptStartedAt: 2000,
        graceUntil: 3000,
        failed: true,
        failedReason: 'restart budget spent',
        backoffMs: 20_000,
        nextHealAt: 4000,
        restarts: [1500, 2000],
        last: { kind: 'restart', startedAt: 2000, finishedAt: 2500, ok: false, reason: 'exit code 1', pid: 42, pidStartTime: 777 },
        startMs: 21_400,
        startFrom: 'restart',
        startAt: 900,
        firstGoodAt: 950,
        sightedAt: 800,
        pids: [42, 43],
        retryAsked: true,
        order: 'handover',
      },
    },
    keepalived: {
      phase: 'stopping',
      runningSince: 100,
      last: { kind: 'keepalived.stop', startedAt: 4400, finishedAt: 4450, ok: true },
      release: { active: true, reason: 'tomcat failed', handover: true, at: 4500, stopPids: [10, 11], history: [4500, 4600], flapping: true },
      guard: { held: true, reason: 'the peer is unhealthy too', handoverSkipped: true },
      vip: { bad: 2, unserved: true, handoverMs: 850, split: { polls: 3, said: true }, orphaned: { polls: 1 } },
      backoff: { stop: { ms: 10_000, nextAt: 5000 }, again: { ms: 20_000, nextAt: 6000 }, start: { ms: 30_000, nextAt: 7000 } },
    },
    maintenance: { since: 10, until: 20, reason: 'deploy', by: 'alice (sudo)', remindedAt: 15 },
  });

  it('a fully populated memory (every field of types.ts) round-trips unchanged', () => {
    const d = dir();
    saveState(d, full());
    assert.deepEqual(loadState(d), { memory: full(), events: [], text: JSON.stringify(full()) });
    rmSync(d, { recursive: true });
  });

  it("a state saved before the keepalived memory was grouped (flat keys) loads into the groups, nothing lost", () => {
    const d = dir();
    const m = full() as unknown as Record<string, any>;
    m.keepalived = {
      phase: 'stopping',
      failedOver: true,
      failoverReason: 'tomcat failed',
      stopPids: [10, 11],
      nextStopAt: 5000,
      stopBackoffMs: 10_000,
      nextAgainAt: 6000,
      againBackoffMs: 20_000,
      nextStartAt: 7000,
      startBackoffMs: 30_000,
      runningSince: 100,
      vipBad: 2,
      vipUnserved: true,
      held: true,
      heldReason: 'the peer is unhealthy too',
      handedOver: true,
      handoverSkipped: true,
      releasedAt: 4500,
      handoverMs: 850,
      split: { polls: 3, said: true },
      orphaned: { polls: 1 },
      releases: [4500, 4600],
      flapping: true,
      last: { kind: 'keepalived.stop', startedAt: 4400, finishedAt: 4450, ok: true },
    };
    writeFileSync(stateFile(d), JSON.stringify(m));
    assert.deepEqual(loadState(d), { memory: full(), events: [], text: JSON.stringify(m) }, 'text: the file as read, so the grouped memory is written back');
    rmSync(d, { recursive: true });
  });

  it('unknown keys are dropped, at every level; the known ones kept', () => {
    const d = dir();
    const m = full() as unknown as Record<string, any>;
    m.junk = 'x'.repeat(100_000);
    m.services.tomcat.extra = 1;
    m.keepalived.last.more = true;
    m.maintenance.who = 'x';
    writeFileSync(stateFile(d), JSON.stringify(m));
    const { text, ...r } = loadState(d);
    assert.deepEqual(r, { memory: full(), events: [] });
    assert.notEqual(text, JSON.stringify(full()), 'the file as read (with its unknown keys): not the memory, so it is written again');
    rmSync(d, { recursive: true });
  });

  for (const [name, text, reason] of [
    ['keepalived null', '{"version":1,"services":{},"keepalived":null}', /^not a version-1 state: keepalived: .*expected object, received null$/],
    ['a service as a string, keepalived empty', '{"version":1,"services":{"tomcat":"x"},"keepalived":{}}', /services\.tomcat: .*expected object, received string; keepalived\.phase: /],
    ['a bad phase', '{"version":1,"services":{"tomcat":{"health":"up","good":1,"bad":0,"phase":"dancing","attempt":0,"failed":false,"restarts":[]}},"keepalived":{"phase":"idle","failedOver":false}}', /services\.tomcat\.phase: /],
    ['an array', '[1,2,3]', /\(top\): .*expected object, received array/],
  ] as Array<[string, string, RegExp]>) {
    it(`${name} -> set aside, the shape error logged`, () => {
      const d = dir();
      writeFileSync(stateFile(d), text);
      const r = loadState(d, 7);
      assert.deepEqual(r.memory, freshMemory());
      assert.equal(r.events[0]!.event, 'state.corrupt');
      const why = String(r.events[0]!.reason).replace(/^.*state\.json: /, '').replace(/; set aside as .*$/, '');
      assert.match(why, reason);
      assert.ok(existsSync(join(d, 'state.json.corrupt-7')));
      rmSync(d, { recursive: true });
    });
  }

  it('a "__proto__" service does not become the prototype of services', () => {
    const d = dir();
    writeFileSync(stateFile(d), '{"version":1,"services":{"__proto__":{"health":"up","good":1,"bad":0,"phase":"idle","attempt":0,"failed":false,"restarts":[]}},"keepalived":{"phase":"idle","failedOver":false}}');
    const { memory } = loadState(d, 7);
    assert.equal(Object.getPrototypeOf(memory.services), Object.prototype);
    assert.deepEqual(Object.keys(memory.services), []);
    rmSync(d, { recursive: true });
  });

  it('the reason never quotes the file (V8 would: "Unexpected token \'r\', "root:$y$..." is not valid JSON")', () => {
    const d = dir();
    writeFileSync(stateFile(d), 'root:$y$j9T$SECRETSALT$SECRETHASH:19000:0:99999:7:::\n');
    const r = loadState(d, 1);
    assert.doesNotMatch(String(r.events[0]!.reason), /SECRET|root:/);
    assert.match(String(r.events[0]!.reason), /state\.json: not JSON/);
    rmSync(d, { recursive: true });
  });

  it('a symlinked state.json is set aside (the link itself), its target neither read nor written', () => {
    const d = dir();
    const target = join(d, 'target');
    writeFileSync(target, JSON.stringify(full()));
    symlinkSync(target, stateFile(d));
    const r = loadState(d, 3);
    assert.deepEqual(r.memory, freshMemory());
    assert.match(String(r.events[0]!.reason), /is a symbolic link; not following it; set aside as .*corrupt-3/);
    assert.ok(lstatSync(join(d, 'state.json.corrupt-3')).isSymbolicLink());
    symlinkSync(target, stateFile(d));
    saveState(d, freshMemory());
    assert.ok(lstatSync(stateFile(d)).isFile(), 'the save replaced the link');
    assert.equal(readFileSync(target, 'utf8'), JSON.stringify(full()), 'the target is untouched');
    rmSync(d, { recursive: true });
  });

  it('saving creates a fresh 0600 file under an unpredictable temp name (a planted state.json.tmp-<pid> is not written through)', () => {
    const d = dir();
    const target = join(d, 'target');
    writeFileSync(target, 'precious');
    symlinkSync(target, join(d, `state.json.tmp-${process.pid}`));
    saveState(d, full());
    assert.equal(readFileSync(target, 'utf8'), 'precious');
    assert.equal(lstatSync(stateFile(d)).mode & 0o777, 0o600);
    assert.deepEqual(readdirSync(d).sort(), ['state.json', `state.json.tmp-${process.pid}`, 'target']);
    rmSync(d, { recursive: true });
  });

  it('a stateDir others can write to is neither read nor written; a missing one is created 0700', () => {
    const d = dir();
    writeFileSync(stateFile(d), JSON.stringify(full()));
    chmodSync(d, 0o777);
    const r = loadState(d);
    assert.deepEqual(r.memory, freshMemory());
    assert.equal(r.events[0]!.event, 'state.unreadable');
    assert.match(String(r.events[0]!.reason), new RegExp(`stateDir ${d} is owned by uid \\d+.* with mode 0777: another user could plant files or symlinks in it`));
    assert.ok(existsSync(stateFile(d)), 'nothing set aside in it');
    assert.throws(() => saveState(d, freshMemory()), /stateDir .* mode 0777/);
    const fresh = join(d, 'sub');
    chmodSync(d, 0o700);
    saveState(fresh, freshMemory());
    assert.equal(lstatSync(fresh).mode & 0o777, 0o700);
    rmSync(d, { recursive: true });
  });

  it('pids.json: a symlink or a wrong shape is an empty cache', () => {
    const d = dir();
    writeFileSync(join(d, 'target'), JSON.stringify({ tomcat: { match: 'm', pids: [{ pid: 1, startTime: 2 }] } }));
    symlinkSync(join(d, 'target'), pidsFile(d));
    assert.deepEqual(loadPids(d), {});
    rmSync(pidsFile(d));
    writeFileSync(pidsFile(d), '{"tomcat":{"match":"m","pids":"x"}}');
    assert.deepEqual(loadPids(d), {});
    savePids(d, { tomcat: { match: 'm', pids: [{ pid: 1, startTime: 2 }] } });
    assert.deepEqual(loadPids(d), { tomcat: { match: 'm', pids: [{ pid: 1, startTime: 2 }] } });
    rmSync(d, { recursive: true });
  });
});
