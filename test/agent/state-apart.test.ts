// loadStateApart / restoreStateApart: the daemon's memory at start, read by a real helper
// process (the built CLI's `__state`) from a real state directory: the same memory and
// events as loadState / restoreState in-process, a bad file set aside by the helper,
// and a helper that fails is a fresh start with a warning, never a throw.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadStateApart, restoreStateApart } from '../../src/agent/state-apart.js';
import { loadState, restoreState, saveState, stateFile } from '../../src/agent/state.js';
import type { Config } from '../../src/config/load.js';
import type { SelfCommand } from '../../src/os/self.js';
import { freshMemory } from '../../src/policy/decide.js';
import type { Memory } from '../../src/policy/types.js';
import { CLI } from '../helpers/stage.js';

const self: SelfCommand = { file: process.execPath, args: [CLI] };
const dir = () => mkdtempSync(join(tmpdir(), 'haw-state-apart-'));

/** A restart in flight (pid 2147483000: not running), a maintenance pause, learned timings. */
function saved(): Memory {
  const m = freshMemory();
  m.services.tomcat = { health: 'down', good: 0, bad: 2, phase: 'restarting', attempt: 1, attemptStartedAt: 1000, failed: false, restarts: [1000], last: { kind: 'restart', startedAt: 1000, pid: 2147483000, pidStartTime: 5 }, startMs: 21_400, startFrom: 'restart' };
  m.maintenance = { since: 10, reason: 'deploy', by: 'alice' };
  m.keepalived.vip.handoverMs = 850;
  return m;
}

const config = (stateDir: string) => ({ stateDir, services: { tomcat: { restart: { command: ['/bin/true'], timeout: 60_000, grace: 90_000, attempts: 1 } } } }) as unknown as Config;

describe('agent: the state read by a helper process', () => {
  it('missing: fresh memory, no event', async () => {
    const d = dir();
    assert.deepStrictEqual(await loadStateApart(self, d), { memory: freshMemory(), events: [] });
    rmSync(d, { recursive: true });
  });

  it('saved: the same memory; restored with the restart in flight resolved, as restoreState does', async () => {
    const d = dir();
    saveState(d, saved());
    const apart = await loadStateApart(self, d);
    assert.deepStrictEqual(apart.memory, saved());
    assert.deepStrictEqual(apart.events, []);
    const { text, ...rest } = loadState(d);
    assert.deepStrictEqual(apart, { ...rest, ...(text !== undefined && { saved: text }) }, 'as loadState gives it'); 
    const now = 500_000;
    const restored = await restoreStateApart(self, config(d), () => now);
    assert.deepStrictEqual(restored, restoreState(config(d), now));
    assert.equal(restored.memory.services.tomcat!.phase, 'grace');
    assert.deepEqual(restored.events.map((e) => e.event), ['state.resumed']);
    rmSync(d, { recursive: true });
  });

  it('corrupt: set aside by the helper, fresh memory, state.corrupt', async () => {
    const d = dir();
    writeFileSync(stateFile(d), '{"version":1,"services":{"tomc');
    const r = await loadStateApart(self, d);
    assert.deepStrictEqual(r.memory, freshMemory());
    assert.deepEqual(r.events.map((e) => e.event), ['state.corrupt']);
    assert.match(String(r.events[0]!.reason), /state\.json: not JSON .*; set aside as .*state\.json\.corrupt-\d+; starting fresh/);
    assert.equal(existsSync(stateFile(d)), false);
    assert.equal(readdirSync(d).filter((f) => f.startsWith('state.json.corrupt-')).length, 1);
    rmSync(d, { recursive: true });
  });

  it('a helper that fails: fresh memory and state.unreadable naming the file and the helper; the file is left alone', async () => {
    const d = dir();
    saveState(d, saved());
    const broken: SelfCommand = { file: process.execPath, args: ['-e', 'process.exit(5)', '--'] };
    const r = await loadStateApart(broken, d);
    assert.deepStrictEqual(r.memory, freshMemory());
    assert.equal(r.events.length, 1);
    assert.equal(r.events[0]!.event, 'state.unreadable');
    assert.match(String(r.events[0]!.reason), /state\.json: the state reader \(pid \d+\) failed: exit code 5; starting fresh$/);
    assert.equal(existsSync(stateFile(d)), true);
    rmSync(d, { recursive: true });
  });
});
