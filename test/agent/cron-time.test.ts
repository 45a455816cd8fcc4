// The daemon's cheap node-cron matcher (src/agent/cron-time.ts) against node-cron's
// own, for every interval's expression, in time zones with whole-hour, half-hour and
// 45-minute offsets and with DST (each in its own process: TZ is read at start-up).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import cron from 'node-cron';
import { cheapenTask, intervalMatcher } from '../../src/agent/cron-time.js';
import { cronExpression, VALID_INTERVALS } from '../../src/config/interval.js';
import { parseDuration } from '../../src/config/duration.js';

const EXPRESSIONS = VALID_INTERVALS.map((i) => cronExpression(parseDuration(i) as number)!);

/** Run in a child with TZ set: mismatches between the two matchers (DST changes excepted), as JSON. */
const COMPARE = `
import cron from 'node-cron';
import { intervalMatcher } from './src/agent/cron-time.ts';
const exprs = JSON.parse(process.env.EXPRS);
const out = { compared: 0, mismatches: [] };
let seed = 12345;
const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
const offset = (t) => new Date(t).getTimezoneOffset();
for (const e of exprs) {
  const task = cron.createTask(e, () => {});
  const theirs = task.timeMatcher;
  const ours = intervalMatcher(e);
  for (let i = 0; i < 150; i++) {
    const t = Date.UTC(2026, 0, 1) + Math.floor(rand() * 365 * 86400e3) + (i % 3 === 0 ? 999 : 0);
    // Around a DST change the two differ on purpose (see cron-time.ts).
    if (offset(t - 13 * 3600e3) !== offset(t + 13 * 3600e3)) continue;
    const from = new Date(t);
    const a = ours.getNextMatch(from).getTime();
    const b = theirs.getNextMatch(from).getTime();
    out.compared += 1;
    if (a !== b || ours.match(new Date(a)) !== theirs.match(new Date(a))) out.mismatches.push({ e, from: from.toISOString(), ours: new Date(a).toISOString(), theirs: new Date(b).toISOString() });
  }
  task.destroy();
}
console.log(JSON.stringify(out));
`;

describe('cron-time: the interval matcher', () => {
  it('accepts every expression an interval becomes, and nothing else', () => {
    for (const e of EXPRESSIONS) assert.ok(intervalMatcher(e), e);
    for (const e of ['0 0 12 * * 1', '*/7 * * * * * *', '1-5 * * * * *', '0 0 0 1 * *', '*/60 * * * * *']) assert.equal(intervalMatcher(e), null, e);
  });

  for (const tz of ['UTC', 'America/New_York', 'Asia/Kolkata', 'Asia/Kathmandu', 'Australia/Lord_Howe']) {
    it(`finds the same next match as node-cron's own, TZ=${tz}`, () => {
      const out = JSON.parse(
        execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', COMPARE], {
          cwd: new URL('../..', import.meta.url),
          env: { ...process.env, TZ: tz, EXPRS: JSON.stringify(EXPRESSIONS) },
          encoding: 'utf8',
        }),
      ) as { compared: number; mismatches: unknown[] };
      assert.ok(out.compared > EXPRESSIONS.length * 100, `compared ${out.compared}`);
      assert.deepEqual(out.mismatches, []);
    });
  }

  it('keeps firing through a DST fall-back, where node-cron itself skips an hour', () => {
    const out = execFileSync(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', `import { intervalMatcher } from './src/agent/cron-time.ts'; const m = intervalMatcher('*/3 * * * * *'); console.log(m.getNextMatch(new Date('2026-11-01T05:59:57Z')).toISOString());`],
      { cwd: new URL('../..', import.meta.url), env: { ...process.env, TZ: 'America/New_York' }, encoding: 'utf8' },
    );
    assert.equal(out.trim(), '2026-11-01T06:00:00.000Z');
  });

  it('cheapenTask: a task keeps firing on node-cron\'s timer, its context read lazily', async () => {
    let fired = 0;
    let iso: string | undefined;
    const task = cron.createTask('* * * * * *', (ctx) => {
      fired += 1;
      iso = ctx.dateLocalIso;
    });
    assert.equal(cheapenTask(task, '* * * * * *'), true);
    await task.start();
    const until = Date.now() + 2500;
    while (fired < 1 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    await task.destroy();
    assert.ok(fired >= 1, 'fired');
    assert.match(iso ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000/);
  });

  it('cheapenTask leaves any other expression to node-cron', async () => {
    const task = cron.createTask('0 0 12 * * 1', () => {});
    assert.equal(cheapenTask(task, '0 0 12 * * 1'), false);
    await task.destroy();
  });
});
