// Bounded polling.
import { setTimeout as sleep } from 'node:timers/promises';

export interface WaitOptions {
  /** Poll period. Default 100 ms. */
  intervalMs?: number;
  /** Describes what is awaited, for the timeout error. */
  what?: string;
}

/**
 * Polls `predicate` until it returns a truthy value (which is returned) or
 * `timeoutMs` passes (then throws). Errors thrown by the predicate count as
 * "not yet" and the last one is reported on timeout.
 */
export async function waitFor<T>(
  predicate: () => T | Promise<T>,
  timeoutMs: number,
  opts: WaitOptions = {},
): Promise<NonNullable<T>> {
  const interval = opts.intervalMs ?? 100;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await predicate();
      if (v) return v as NonNullable<T>;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() >= deadline) break;
    await sleep(Math.min(interval, Math.max(0, deadline - Date.now())));
  }
  const detail = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${opts.what ?? 'condition'}${detail}`);
}
