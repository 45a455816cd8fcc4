// node-cron stays the scheduler (its timer, its missed-tick detection), but the two
// things it does with dates on every tick are made cheap for the expressions an
// interval becomes (config/interval.ts: `*/N * * * * *`, `0 */N * * * *`,
// `0 0 */N * * *`, N = 1 written as `*`):
//
// - the next match: node-cron walks candidate times through Intl.DateTimeFormat
//   (formatToParts three or four times per tick); here it is Date arithmetic on local
//   seconds, minutes and hours, which is the same thing for these expressions;
// - the context object node-cron builds three times per tick for listeners (none here):
//   its `dateLocalIso` is formatted through Intl as well; here it is computed only if
//   something reads it.
//
// Measured (bench item 2a, the scheduler alone): most of node-cron's CPU per tick, and
// the 8-12 MB of RSS that loading ICU's locale and time zone data costs (Intl is used
// by nothing else in the daemon).
//
// One difference, on purpose: at a DST fall-back, node-cron's own walker maps the
// first local time after the repeated hour to the second pass of it, so it does not
// fire for an hour; this one follows the real clock and keeps firing.
import type { ScheduledTask } from 'node-cron';

type Field = (v: number) => boolean;

export interface Matcher {
  match(date: Date): boolean;
  /** The first instant after `date` (whole seconds, strictly later) that matches. */
  getNextMatch(date: Date): Date;
}

/** An arithmetic matcher for the expressions cronExpression() writes, or null for any other. */
export function intervalMatcher(expression: string): Matcher | null {
  const f = expression.trim().split(/\s+/);
  if (f.length !== 6 || f.slice(3).some((x) => x !== '*')) return null;
  const [sec, min, hour] = [field(f[0]!, 60), field(f[1]!, 60), field(f[2]!, 24)];
  if (!sec || !min || !hour) return null;
  const match = (d: Date) => sec(d.getSeconds()) && min(d.getMinutes()) && hour(d.getHours());
  return {
    match,
    getNextMatch(date: Date): Date {
      let t = Math.floor(date.getTime() / 1000) * 1000 + 1000;
      // A minute-aligned step needs local seconds to follow UTC's (true of every time zone
      // offset since 1972); otherwise, second by second. Bounded: two days of minutes.
      for (let i = 0; i < 3000; i++) {
        const d = new Date(t);
        const s = d.getSeconds();
        if (!sec(s)) t += 1000;
        else if (!min(d.getMinutes()) || !hour(d.getHours())) t += s === 0 && new Date(t + 60_000).getSeconds() === 0 ? 60_000 : 1000;
        else return d;
      }
      throw new Error(`no match for "${expression}" within two days of ${date.toISOString()}`);
    },
  };
}

// A field: "*", "*/N" (the multiples of N) or one number, within 0..size-1.
function field(text: string, size: number): Field | null {
  if (text === '*') return () => true;
  const step = /^\*\/(\d+)$/.exec(text);
  if (step) {
    const n = Number(step[1]);
    return n >= 1 && n < size ? (v) => v % n === 0 : null;
  }
  if (/^\d+$/.test(text) && Number(text) < size) {
    const n = Number(text);
    return (v) => v === n;
  }
  return null;
}

interface NodeCronInternals {
  timeMatcher?: { match?: unknown; getNextMatch?: unknown };
  runner?: { timeMatcher?: unknown };
  createContext?: (date: Date, execution?: unknown, reason?: unknown) => Record<string, unknown>;
}

/**
 * Gives a node-cron task (created, not started) the matcher above and a lazy context,
 * if its expression is one of an interval's and its internals are as expected
 * (node-cron 4: task.timeMatcher, shared with task.runner, and task.createContext).
 * Otherwise the task is left as node-cron made it. True when it was made cheap.
 */
export function cheapenTask(task: ScheduledTask, expression: string): boolean {
  const t = task as unknown as NodeCronInternals;
  const m = intervalMatcher(expression);
  const tm = t.timeMatcher;
  if (!m || !tm || typeof tm.getNextMatch !== 'function' || typeof tm.match !== 'function' || t.runner?.timeMatcher !== tm || typeof t.createContext !== 'function') return false;
  tm.match = m.match;
  tm.getNextMatch = m.getNextMatch;
  const original = t.createContext.bind(task);
  t.createContext = (date: Date, execution?: unknown, reason?: unknown) => {
    let iso: string | undefined;
    const ctx: Record<string, unknown> = { date: new Date(date.getTime()), triggeredAt: new Date(), task, execution };
    Object.defineProperty(ctx, 'dateLocalIso', { enumerable: true, configurable: true, get: () => (iso ??= original(date, execution, reason).dateLocalIso as string) });
    if (reason) ctx.reason = reason;
    return ctx;
  };
  return true;
}
