// The /healthz body: healthy means every critical service up and none given up on; a
// process that died a moment ago (seen by the pid watch, not yet by a poll) counts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hostHealth } from '../../src/serve/healthz.js';
import { freshMemory } from '../../src/policy/decide.js';
import { freshServiceMemory } from '../../src/policy/service.js';
import type { Memory } from '../../src/policy/types.js';

function memory(over: Record<string, Partial<ReturnType<typeof freshServiceMemory>>>): Memory {
  const m = freshMemory();
  for (const [n, o] of Object.entries(over)) m.services[n] = { ...freshServiceMemory(), health: 'up', ...o };
  return m;
}
const critical = { tomcat: true, nginx: true, extra: false };

describe('hostHealth', () => {
  it('all critical services up -> healthy; a non-critical one down does not matter', () => {
    const h = hostHealth(memory({ tomcat: {}, nginx: {}, extra: { health: 'down' } }), critical, true, 1000, 2000);
    assert.equal(h.healthy, true);
    assert.equal(h.polledAt, new Date(1000).toISOString());
  });
  it('a critical service down, unknown or failed -> unhealthy', () => {
    for (const o of [{ health: 'down' as const }, { health: 'unknown' as const }, { failed: true }]) {
      assert.equal(hostHealth(memory({ tomcat: o, nginx: {} }), critical, true, 1000).healthy, false, JSON.stringify(o));
    }
  });
  it('tomcat up at the last poll but its process gone since -> unhealthy now, tomcat reported down', () => {
    const h = hostHealth(memory({ tomcat: {}, nginx: {} }), critical, true, 1000, 2000, ['tomcat']);
    assert.equal(h.healthy, false);
    assert.equal(h.services.tomcat!.health, 'down');
  });
  it('paused until a time in the past -> not paused', () => {
    const m = { ...memory({ tomcat: {}, nginx: {} }), maintenance: { since: 0, until: 1500 } };
    assert.deepEqual([hostHealth(m, critical, true, 1000, 1000).paused, hostHealth(m, critical, true, 1000, 2000).paused], [true, false]);
  });
});
