import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadState, saveState, stateFile } from '../../src/agent/state.js';
import { freshMemory } from '../../src/policy/decide.js';

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
