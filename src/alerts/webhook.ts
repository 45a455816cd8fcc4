// Webhook delivery: POST the alert as JSON through undici. Each attempt is bounded by
// the timeout as a whole (connect, answer, body); failures are retried with exponential
// backoff. Never throws: how it went comes back as a value.
import type { NotifyConfig } from '../config/load.js';
import { deadline } from '../net/deadline.js';
import { describeError } from '../net/error.js';
import { undiciClient, type UndiciClient } from '../net/undici.js';

export type WebhookConfig = NotifyConfig['webhook'] & {};

export interface Delivery {
  ok: boolean;
  /** Attempts made (1 + retries used). */
  attempts: number;
  /** Why the last attempt failed, expected vs seen ("status 503, expected 2xx"). */
  reason?: string;
  durationMs: number;
}

type Attempt = { ok: true } | { ok: false; reason: string; retry: boolean };

type Undici = UndiciClient;
// Loaded on first use: an agent without a webhook never pays for it.
const loadUndici = async () => undiciClient();

/** First backoff; it doubles on every retry: 1 s, 2 s, 4 s, ... */
export const BACKOFF_MS = 1000;
/** How much of an error answer's body goes into the reason. */
const BODY_IN_REASON = 200;
/** Past this, the answer's body is not read further (the connection is closed anyway). */
const BODY_LIMIT = 64 * 1024;

export class Webhook {
  private dispatcher?: InstanceType<Undici['Agent']>;
  /** Names the destination in logs: the origin only, since webhook paths often carry a token. */
  readonly destination: string;

  constructor(
    private readonly cfg: WebhookConfig,
    private readonly opts: { backoffMs?: number } = {},
  ) {
    this.destination = `webhook ${safeOrigin(cfg.url)}`;
  }

  /** Posts `body` (JSON) with retries; `signal` abandons it (the agent is stopping). */
  async post(body: string, signal: AbortSignal): Promise<Delivery> {
    const started = performance.now();
    const done = (attempts: number, reason?: string): Delivery => ({ ok: reason === undefined, attempts, reason, durationMs: Math.round(performance.now() - started) });
    const backoff = this.opts.backoffMs ?? BACKOFF_MS;
    let last: Attempt = { ok: false, reason: 'not attempted', retry: false };
    let attempt = 0;
    try {
      while (attempt <= this.cfg.retries) {
        if (signal.aborted) return done(attempt, `${last.ok || attempt === 0 ? '' : `${last.reason}; then `}abandoned: the agent is stopping`);
        attempt += 1;
        last = await this.once(body, signal);
        if (last.ok) return done(attempt);
        if (!last.retry || attempt > this.cfg.retries) break;
        await sleep(backoff * 2 ** (attempt - 1), signal);
      }
      return done(attempt, `${last.reason}${attempt > 1 ? ` (after ${attempt} attempts)` : ''}`);
    } catch (e) {
      // Not expected (once() catches its own errors); still a value, never a throw.
      return done(attempt, `internal error: ${(e as Error).message}`);
    }
  }

  private async once(body: string, outer: AbortSignal): Promise<Attempt> {
    const { Agent } = await loadUndici();
    // undici's own connect timeout (10 s) ignores the abort signal: bound it too.
    this.dispatcher ??= new Agent({ connect: { timeout: this.cfg.timeout } });
    const controller = new AbortController();
    const abandon = () => controller.abort();
    outer.addEventListener('abort', abandon, { once: true });
    const limit = deadline(this.cfg.timeout, controller);
    try {
      const [status, head] = await Promise.race([this.request(body, controller.signal), limit.expired]);
      if (status >= 200 && status < 300) return { ok: true };
      const said = head.trim() ? `: ${oneLine(head)}` : '';
      // A 3xx or another 4xx means the request itself is wrong (URL, token): asking again will not help.
      const retry = status >= 500 || status === 408 || status === 429;
      return { ok: false, reason: `status ${status}, expected 2xx${said}`, retry };
    } catch (e) {
      if (outer.aborted) return { ok: false, reason: 'abandoned: the agent is stopping', retry: false };
      if (controller.signal.aborted) return { ok: false, reason: `no complete answer within ${this.cfg.timeout} ms`, retry: true };
      return { ok: false, reason: describeError(e), retry: true };
    } finally {
      limit.clear();
      outer.removeEventListener('abort', abandon);
    }
  }

  private async request(body: string, signal: AbortSignal): Promise<[number, string]> {
    const { request } = await loadUndici();
    const res = await request(this.cfg.url, {
      method: 'POST',
      body,
      signal,
      // Alerts are minutes apart: a fresh connection each time, never a stale kept-alive one.
      reset: true,
      dispatcher: this.dispatcher,
      headers: { 'content-type': 'application/json', 'user-agent': 'ha-watchdog' },
    });
    const kept: Buffer[] = [];
    let bytes = 0;
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      if (bytes < BODY_IN_REASON) kept.push(chunk);
      bytes += chunk.length;
      if (bytes >= BODY_LIMIT) break;
    }
    return [res.statusCode, Buffer.concat(kept).subarray(0, BODY_IN_REASON).toString('utf8')];
  }

  async close(): Promise<void> {
    // destroy, not close: close() would wait for a request that hangs.
    await this.dispatcher?.destroy().catch(() => undefined);
    this.dispatcher = undefined;
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', wake);
      resolve();
    }, ms);
    const wake = () => {
      clearTimeout(timer);
      resolve();
    };
    signal.addEventListener('abort', wake, { once: true });
  });
}

function safeOrigin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '(invalid URL)';
  }
}

function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}
