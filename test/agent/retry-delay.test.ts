import assert from 'node:assert/strict';
import { test } from 'node:test';
import { retryIn } from '../../src/agent/retry-delay.js';
import type { Config } from '../../src/config/load.js';
import type { Memory, ServiceObservation } from '../../src/policy/types.js';

const cfg = (retryDelay = 100) => ({ retryDelay }) as Config['services'][string];
const failing = (...ms: number[]): ServiceObservation => ({ ok: false, probes: ms.map((durationMs) => ({ probe: 'http', ok: false, durationMs, reason: 'x' })) });
const mem = (health: 'up' | 'down' | 'unknown' = 'up') => ({ health }) as Memory['services'][string];
const none = () => false;

const cases: Array<[string, Record<string, ServiceObservation>, Config['services'], Memory['services'], ((s: string) => boolean) | undefined, number | undefined]> = [
  ['refused in 2 ms -> asked again after the rest of the 100 ms', { tomcat: failing(2) }, { tomcat: cfg() }, { tomcat: mem() }, undefined, 98],
  ['hung: timed out after 500 ms -> asked again at once', { tomcat: failing(500) }, { tomcat: cfg() }, { tomcat: mem() }, undefined, 0],
  ['two probes failed, the slower one counts', { tomcat: { ok: false, probes: [{ probe: 'process', ok: false, durationMs: 1 }, { probe: 'http', ok: false, durationMs: 60 }] } }, { tomcat: cfg() }, { tomcat: mem() }, undefined, 40],
  ['a passing probe beside a failed one does not count', { tomcat: { ok: false, probes: [{ probe: 'tcp', ok: true, durationMs: 90 }, { probe: 'http', ok: false, durationMs: 10 }] } }, { tomcat: cfg() }, { tomcat: mem() }, undefined, 90],
  ['two failing services -> the sooner', { tomcat: failing(20), nginx: failing(5) }, { tomcat: cfg(), nginx: cfg(30) }, { tomcat: mem(), nginx: mem() }, undefined, 25],
  ['already down -> no retry (its restart is the next step)', { tomcat: failing(2) }, { tomcat: cfg() }, { tomcat: mem('down') }, undefined, undefined],
  ['healthy -> no retry', { tomcat: { ok: true, probes: [] } }, { tomcat: cfg() }, { tomcat: mem() }, undefined, undefined],
  ['its probe still running -> its answer kicks the next poll', { tomcat: failing(2) }, { tomcat: cfg() }, { tomcat: mem() }, (s) => s === 'tomcat', undefined],
  ['not in the config (removed by a reload) -> ignored', { gone: failing(2) }, {}, { gone: mem() }, undefined, undefined],
];

for (const [name, fresh, services, memory, probing, want] of cases) {
  test(`retryIn: ${name}`, () => {
    assert.equal(retryIn(fresh, services, memory, probing ?? none), want);
  });
}
