// HTTP probe, like keepalived's HTTP_GET/SSL_GET: status, optional body regex and MD5
// digest, the whole request (body included) bounded by one timeout.
import type { HttpCheck } from '../config/load.js';
import { compileRegex, type SafeRegex } from '../config/regex.js';
import { deadline } from '../net/deadline.js';
import { describeError } from '../net/error.js';
import { undiciClient, type UndiciClient } from '../net/undici.js';
import type { ProbeResult } from '../policy/types.js';

const BODY_LIMIT = 1 << 20; // bytes kept for bodyMatches; the rest is hashed or discarded

type Undici = UndiciClient;
// undici's client is loaded on first use: a one-shot `check` without HTTP probes never pays for it.
const loadUndici = async () => undiciClient();

export class HttpProbe {
  private dispatcher?: InstanceType<Undici['Agent']>;
  private readonly bodyRe: SafeRegex | null;

  constructor(private readonly cfg: HttpCheck) {
    // RE2: linear in the body, so a body of 'aaa...!' cannot stall the loop on '^(a+)+$'.
    this.bodyRe = cfg.bodyMatches !== undefined ? compileRegex(cfg.bodyMatches) : null;
  }

  async check(): Promise<ProbeResult> {
    const started = performance.now();
    const done = (ok: boolean, reason?: string): ProbeResult => ({
      probe: 'http',
      ok,
      reason,
      durationMs: Math.round((performance.now() - started) * 10) / 10,
    });
    const { Agent } = await loadUndici();
    // Kept-alive connections: a new TCP connection per probe costs ~6x the CPU.
    // undici's own connect timeout (10 s) ignores the abort signal: bound it too.
    this.dispatcher ??= new Agent({ connect: { rejectUnauthorized: this.cfg.tlsVerify, timeout: this.cfg.timeout }, keepAliveTimeout: 10_000 });
    // Whatever undici is doing (connecting, waiting, reading), the probe answers at the timeout.
    const controller = new AbortController();
    const limit = deadline(this.cfg.timeout, controller);
    const within = <T>(p: Promise<T>) => Promise.race([p, limit.expired]);
    try {
      return done(...(await within(this.get(controller.signal))));
    } catch (e) {
      if (controller.signal.aborted) return done(false, `${this.cfg.url}: no complete answer within ${this.cfg.timeout} ms`);
      // A kept-alive connection the server closed (e.g. it was restarted) fails at once;
      // that says nothing about the server now, so ask again on a fresh connection.
      if (isStaleConnection(e)) {
        try {
          return done(...(await within(this.get(controller.signal, true))));
        } catch (e2) {
          if (controller.signal.aborted) return done(false, `${this.cfg.url}: no complete answer within ${this.cfg.timeout} ms`);
          return done(false, `${this.cfg.url}: ${describeError(e2)}`);
        }
      }
      return done(false, `${this.cfg.url}: ${describeError(e)}`);
    } finally {
      limit.clear();
    }
  }

  private async get(signal: AbortSignal, fresh = false): Promise<[boolean, string?]> {
    const { request } = await loadUndici();
    const res = await request(this.cfg.url, {
      method: 'GET',
      signal,
      reset: fresh,
      dispatcher: this.dispatcher,
      headers: { 'user-agent': 'ha-watchdog' },
    });
    // node:crypto only where a digest is checked: loading it costs a `check` ~8 ms.
    const md5 = this.cfg.digest ? process.getBuiltinModule('node:crypto').createHash('md5') : null;
    const kept: Buffer[] = [];
    let keptBytes = 0;
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      md5?.update(chunk);
      if (this.bodyRe && keptBytes < BODY_LIMIT) {
        kept.push(chunk);
        keptBytes += chunk.length;
      }
    }
    const statusOk = this.cfg.expectStatus ? this.cfg.expectStatus.includes(res.statusCode) : res.statusCode >= 200 && res.statusCode < 400;
    if (!statusOk) return [false, `${this.cfg.url}: status ${res.statusCode}, expected ${this.cfg.expectStatus?.join(' or ') ?? '2xx/3xx'}`];
    if (this.bodyRe && !this.bodyRe.test(Buffer.concat(kept).toString('utf8'))) {
      return [false, `${this.cfg.url}: body does not match /${this.cfg.bodyMatches}/`];
    }
    if (md5) {
      const seen = md5.digest('hex');
      if (seen !== this.cfg.digest) return [false, `${this.cfg.url}: body MD5 ${seen}, expected ${this.cfg.digest}`];
    }
    return [true];
  }

  async close(): Promise<void> {
    await this.dispatcher?.close().catch(() => undefined);
  }
}

const STALE = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED']);

function isStaleConnection(e: unknown): boolean {
  const err = e as { code?: string; cause?: { code?: string } };
  return STALE.has(err.code ?? '') || STALE.has(err.cause?.code ?? '');
}
