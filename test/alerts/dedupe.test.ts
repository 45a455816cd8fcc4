// Dedupe as a table: what goes out and what is held back, with the clock passed in.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Deduper, dedupeKey } from '../../src/alerts/dedupe.js';

const MIN = 60_000;
const WINDOW = 5 * MIN;

type Ev = { event: string; service?: string; services?: string[] };
/** Runs events at their times through one Deduper; returns what was sent, with its count. */
function play(steps: Array<[number, Ev]>, windowMs = WINDOW): Array<{ at: number; key: string; suppressed: number }> {
  const d = new Deduper(windowMs);
  const sent: Array<{ at: number; key: string; suppressed: number }> = [];
  for (const [at, e] of steps) {
    const v = d.check(dedupeKey(e), at);
    if (v.send) sent.push({ at, key: `${e.event}:${e.service ?? e.services?.join(',') ?? ''}`, suppressed: v.suppressed });
  }
  return sent;
}

const down = (service: string): Ev => ({ event: 'service.down', service });
/** n events, `every` ms apart from `from`. */
const burst = (n: number, from: number, every: number, e: Ev): Array<[number, Ev]> => Array.from({ length: n }, (_, i) => [from + i * every, e]);

describe('alerts: dedupe', () => {
  const cases: Array<{ name: string; steps: Array<[number, Ev]>; windowMs?: number; sent: Array<{ at: number; key: string; suppressed: number }> }> = [
    {
      name: 'flapping tomcat: 20 service.down in 1 minute -> 1 sent; the next after the window carries suppressed: 19',
      steps: [...burst(20, 0, 3000, down('tomcat')), [6 * MIN, down('tomcat')]],
      sent: [
        { at: 0, key: 'service.down:tomcat', suppressed: 0 },
        { at: 6 * MIN, key: 'service.down:tomcat', suppressed: 19 },
      ],
    },
    {
      name: 'different services are not deduped together',
      steps: [[0, down('tomcat')], [1000, down('nginx')], [2000, down('tomcat')], [3000, down('nginx')]],
      sent: [
        { at: 0, key: 'service.down:tomcat', suppressed: 0 },
        { at: 1000, key: 'service.down:nginx', suppressed: 0 },
      ],
    },
    {
      name: 'different events for one service are not deduped together (service.down then restart.failed)',
      steps: [[0, down('tomcat')], [5000, { event: 'restart.failed', service: 'tomcat' }]],
      sent: [
        { at: 0, key: 'service.down:tomcat', suppressed: 0 },
        { at: 5000, key: 'restart.failed:tomcat', suppressed: 0 },
      ],
    },
    {
      name: 'the window runs from the last one sent: a steady flap yields one alert per window, each counting its repeats',
      steps: burst(13, 0, MIN, down('tomcat')), // 0..12 min
      sent: [
        { at: 0, key: 'service.down:tomcat', suppressed: 0 },
        { at: 5 * MIN, key: 'service.down:tomcat', suppressed: 4 },
        { at: 10 * MIN, key: 'service.down:tomcat', suppressed: 4 },
      ],
    },
    {
      name: 'one just inside the window is held back; one at the window is sent',
      steps: [[0, down('tomcat')], [WINDOW - 1, down('tomcat')], [WINDOW, down('tomcat')]],
      sent: [
        { at: 0, key: 'service.down:tomcat', suppressed: 0 },
        { at: WINDOW, key: 'service.down:tomcat', suppressed: 1 },
      ],
    },
    {
      name: 'a quiet window resets the count: no repeats, no suppressed field',
      steps: [[0, down('tomcat')], [20 * MIN, down('tomcat')]],
      sent: [
        { at: 0, key: 'service.down:tomcat', suppressed: 0 },
        { at: 20 * MIN, key: 'service.down:tomcat', suppressed: 0 },
      ],
    },
    {
      name: 'dedupe 0 sends everything',
      windowMs: 0,
      steps: burst(3, 0, 0, down('tomcat')),
      sent: [
        { at: 0, key: 'service.down:tomcat', suppressed: 0 },
        { at: 0, key: 'service.down:tomcat', suppressed: 0 },
        { at: 0, key: 'service.down:tomcat', suppressed: 0 },
      ],
    },
    {
      name: 'failover is keyed by its services; events without a service share one key',
      steps: [
        [0, { event: 'failover', services: ['tomcat'] }],
        [1000, { event: 'failover', services: ['nginx'] }],
        [2000, { event: 'failover', services: ['tomcat'] }],
        [3000, { event: 'keepalived.start' }],
        [4000, { event: 'keepalived.start' }],
      ],
      sent: [
        { at: 0, key: 'failover:tomcat', suppressed: 0 },
        { at: 1000, key: 'failover:nginx', suppressed: 0 },
        { at: 3000, key: 'keepalived.start:', suppressed: 0 },
      ],
    },
  ];
  for (const c of cases) {
    it(c.name, () => assert.deepEqual(play(c.steps, c.windowMs), c.sent));
  }

  it('keys are unambiguous: an event name with a service cannot collide with another pair', () => {
    assert.notEqual(dedupeKey({ event: 'a.b', service: 'c' }), dedupeKey({ event: 'a', service: 'b.c' }));
  });

  it('forgets quiet keys after their window, keeps those with a count to report', () => {
    const d = new Deduper(WINDOW);
    for (let i = 0; i < 50; i++) d.check(`service.down\u0000s${i}`, 0);
    d.check('service.down\u0000s0', 1000); // s0 now has a repeat held back
    assert.equal(d.size, 50);
    d.check('other', WINDOW + 1);
    assert.equal(d.size, 2, 'quiet keys were not forgotten'); // s0 (count pending) and "other"
    assert.deepEqual(d.check('service.down\u0000s0', WINDOW + 2), { send: true, suppressed: 1 });
  });
});
