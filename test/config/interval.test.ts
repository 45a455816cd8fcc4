import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatDuration, parseDuration } from '../../src/config/duration.js';
import { cronExpression, VALID_INTERVALS } from '../../src/config/interval.js';

describe('config: durations and intervals', () => {
  const parsed: Array<[unknown, number | RegExp]> = [
    ['500ms', 500], ['3s', 3000], ['2m', 120_000], ['1h', 3_600_000], [3, 3000], [0.25, 250], ['1.5s', 1500],
    ['3 s', 3000], ['3', /expected a duration/], ['-1s', /expected a duration/], [-2, /non-negative/], [true, /got boolean true/], [null, /got null/],
  ];
  for (const [input, want] of parsed) {
    it(`parseDuration(${JSON.stringify(input)})`, () => {
      const got = parseDuration(input);
      if (typeof want === 'number') assert.equal(got, want);
      else assert.match(String(got), want);
    });
  }
  it('formatDuration picks the shortest exact unit', () => {
    assert.deepEqual([90_000, 120_000, 3_600_000, 1500, 0].map(formatDuration), ['90s', '2m', '1h', '1500ms', '0s']);
  });
  it('every advertised interval has a cron expression that fires exactly that often', async () => {
    const { default: cron } = await import('node-cron');
    for (const v of VALID_INTERVALS) {
      const ms = parseDuration(v) as number;
      const expr = cronExpression(ms);
      assert.ok(expr && cron.validate(expr), `${v} -> ${expr}`);
      const task = cron.createTask(expr!, () => undefined);
      const runs = task.getNextRuns(4).map((d) => d.getTime());
      const gaps = runs.slice(1).map((t, i) => t - runs[i]!);
      assert.ok(gaps.every((g) => g === ms), `${v}: ${expr} gaps ${gaps}`);
      await task.destroy();
    }
  });
  it('intervals a cron expression cannot hit evenly have none', () => {
    for (const ms of [500, 1500, 7000, 45_000, 90_000, 7 * 60_000, 5 * 3_600_000, 86_400_000]) assert.equal(cronExpression(ms), null, String(ms));
  });
});
