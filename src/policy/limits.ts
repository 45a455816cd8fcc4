// Fixed limits of the policy (not operator knobs, so every host behaves alike).

/** At most this many restarts of one service inside the window; past that it is marked failed. */
export const RESTART_BUDGET = 5;
export const RESTART_WINDOW_MS = 10 * 60_000;

/** Healing a failed service, and re-trying keepalived start/stop, back off 10 s doubling to 5 min. */
export const BACKOFF_FIRST_MS = 10_000;
export const BACKOFF_MAX_MS = 5 * 60_000;

/** keepalived that stayed up this long counts as started for good (resets its start backoff). */
export const KEEPALIVED_STABLE_MS = 60_000;

export function nextBackoff(previous: number | undefined): number {
  return previous === undefined ? BACKOFF_FIRST_MS : Math.min(previous * 2, BACKOFF_MAX_MS);
}

/** Restart start times still inside the window. */
export function recentRestarts(restarts: number[], now: number): number[] {
  return restarts.filter((t) => now - t < RESTART_WINDOW_MS);
}

/** When the budget allows the next restart (now, or when the oldest one leaves the window). */
export function budgetFreeAt(restarts: number[], now: number): number {
  const recent = recentRestarts(restarts, now);
  if (recent.length < RESTART_BUDGET) return now;
  return Math.min(...recent) + RESTART_WINDOW_MS;
}

/**
 * What a handover costs clients until one is measured: keepalived stopped (or in FAULT)
 * advertises priority 0 and the peer takes the VIP within about one advert (1 s).
 */
export const HANDOVER_COST_MS = 1000;
