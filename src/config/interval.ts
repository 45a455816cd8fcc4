// node-cron fires on whole seconds, so a poll interval must be one a cron
// expression hits evenly: a divisor of 60 seconds, 60 minutes or 24 hours.
const SECOND_STEPS = [1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30];
const MINUTE_STEPS = SECOND_STEPS;
const HOUR_STEPS = [1, 2, 3, 4, 6, 8, 12];

export const VALID_INTERVALS = [
  ...SECOND_STEPS.map((n) => `${n}s`),
  ...MINUTE_STEPS.map((n) => `${n}m`),
  ...HOUR_STEPS.map((n) => `${n}h`),
];

/** The six-field node-cron expression for an interval in ms, or null if none hits it evenly. */
export function cronExpression(ms: number): string | null {
  if (ms <= 0 || ms % 1000 !== 0) return null;
  const s = ms / 1000;
  if (SECOND_STEPS.includes(s)) return s === 1 ? '* * * * * *' : `*/${s} * * * * *`;
  if (s % 60 === 0 && MINUTE_STEPS.includes(s / 60)) return `0 ${s === 60 ? '*' : `*/${s / 60}`} * * * *`;
  if (s % 3600 === 0 && HOUR_STEPS.includes(s / 3600)) return `0 0 ${s === 3600 ? '*' : `*/${s / 3600}`} * * *`;
  return null;
}
