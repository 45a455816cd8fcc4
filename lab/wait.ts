// Bounded polling: THE waitFor of the lab and of the tests (test/helpers/wait.ts
// re-exports it).
import { setTimeout as sleep } from 'node:timers/promises';

export interface WaitOptions {
  /** Poll period. Default 100 ms. */
  intervalMs?: number;
  /** Describes what is awaited, for the timeout error. */
  what?: string;
  /**
   * More for the timeout error, e.g. the recent log lines or a journal's tail: a
   * string as it is, anything else as JSON (its last 4000 characters).
   */
  detail?: () => unknown;
  /**
   * An error thrown by the predicate: 'retry' (default) counts it as "not yet" and
   * reports the last one on timeout; 'throw' rejects with it at once (a predicate that
   * sees the awaited thing can no longer happen).
   */
  onError?: 'retry' | 'throw';
}

/** T without its falsy values: what a waitFor resolves with. */
export type Truthy<T> = Exclude<T, false | 0 | 0n | '' | null | undefined>;

/**
 * Polls `predicate` until it returns a truthy value (which is returned) or
 * `timeoutMs` passes (then throws "timed out after <timeoutMs> ms waiting for
 * <what>", with the last error and the detail).
 */
export async function waitFor<T>(
  predicate: () => T | Promise<T>,
  timeoutMs: number,
  opts: WaitOptions = {},
): Promise<Truthy<T>> {
  const interval = opts.intervalMs ?? 100;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await predicate();
      if (v) return v as Truthy<T>;
    } catch (e) {
      if (opts.onError === 'throw') throw e;
      lastError = e;
    }
    if (Date.now() >= deadline) break;
    await sleep(Math.min(interval, Math.max(0, deadline - Date.now())));
  }
  const last = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${opts.what ?? 'condition'}${last}${await detailText(opts.detail)}`);
}

async function detailText(detail: WaitOptions['detail']): Promise<string> {
  if (!detail) return '';
  try {
    const d: unknown = await detail();
    return `\n${typeof d === 'string' ? d : (JSON.stringify(d, null, 1) ?? String(d)).slice(-4000)}`;
  } catch (e) {
    return `\n(detail failed: ${(e as Error).message})`;
  }
}
