// The scenario table (lab/scenarios.ts SCENARIOS) itself, without a lab: every entry
// is complete, names and ids resolve to the same entry, and the names the bench, the
// tests and BENCH_LAB_SCENARIOS use are there. Needs no root.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isScenarioKey, REALISTIC, scenario, scenarioLabel, SCENARIOS } from '../../lab/scenarios.js';

const entries = Object.entries(SCENARIOS);

describe('the lab scenario table', () => {
  it('is keyed by each entry\'s name, every entry with its fault, window and expected host', () => {
    for (const [key, s] of entries) {
      assert.equal(s.name, key);
      assert.equal(typeof s.inject, 'function', `${key}: no inject`);
      assert.ok(s.title && s.fault && s.right, `${key}: title, fault and right in words`);
      assert.ok(s.windowMs > 0, key);
      assert.ok(['A', 'B', 'none'].includes(s.expect), key);
    }
  });

  it('has unique ids, each an alias of its entry', () => {
    const ids = entries.map(([, s]) => s.id);
    assert.equal(new Set(ids).size, ids.length);
    for (const [key, s] of entries) {
      assert.equal(scenario(s.id), s);
      assert.equal(scenario(key), s);
      assert.ok(isScenarioKey(s.id) && isScenarioKey(key));
    }
  });

  it('keeps the classic ids the tests and BENCH_LAB_SCENARIOS use', () => {
    const names = { '1': 'kill-restart-works', '2': 'kill-restart-fails', '3b': 'hang-restart-fails', '6': 'repair-after-failover' };
    for (const [id, name] of Object.entries(names)) assert.equal(scenario(id).name, name);
    assert.equal(scenarioLabel(scenario('6')), 'repair-after-failover (6)');
    for (const id of ['3', '4', '5', '7', '8', '9', '9b', '10', '11', '12', '13']) assert.ok(isScenarioKey(id), id);
  });

  it('gives every realistic scenario its name as its id', () => {
    for (const name of REALISTIC) {
      assert.equal(scenario(name).id, name);
      assert.equal(scenarioLabel(scenario(name)), name);
    }
  });

  it('measures from the repair exactly where a repair follows the fault', () => {
    const fromRepair = entries.filter(([, s]) => s.fromRepair).map(([k]) => k).sort();
    assert.deepEqual(fromRepair, ['guard-repair-backup', 'guard-repair-holder', 'repair-after-failover', 'slow-repair', 'track-file-repair']);
  });

  it('refuses an unknown key, listing the known ones', () => {
    assert.equal(isScenarioKey('14'), false);
    assert.equal(isScenarioKey('toString'), false);
    assert.throws(() => scenario('14'), /unknown scenario 14 \(kill-restart-works \(1\), .*slow-crash/);
  });
});
