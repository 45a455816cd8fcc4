// The peer guard's question to the other host: GET its /healthz (served by its agent's
// metrics listener) and read `healthy` from the JSON. Asked only when a failover is
// being weighed, so a plain request per question is enough.
import type { PeerConfig } from '../config/load.js';
import type { PeerObservation } from '../policy/types.js';
import { undiciClient, type UndiciClient } from '../net/undici.js';

const BODY_LIMIT = 64 * 1024;

/**
 * `kept`: a kept-alive dispatcher for the every-poll question of the pair comparison
 * (a new TCP connection each second costs far more); without it, a fresh connection
 * per question, as the guard wants (a stale kept-alive connection must never read as
 * "the peer cannot be asked" when a failover hinges on the answer).
 */
export async function askPeer(cfg: Pick<PeerConfig, 'url' | 'timeout'>, kept?: InstanceType<UndiciClient['Dispatcher']>): Promise<PeerObservation> {
  const { request, Agent } = undiciClient();
  const dispatcher = kept ?? new Agent({ connect: { timeout: cfg.timeout }, keepAliveTimeout: 1 });
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), cfg.timeout);
  const unreachable = (reason: string): PeerObservation => ({ reachable: false, healthy: false, reason: `${cfg.url}: ${reason}` });
  try {
    const res = await request(cfg.url, { method: 'GET', signal: controller.signal, dispatcher, headers: { 'user-agent': 'ha-watchdog peer guard', accept: 'application/json' } });
    let text = '';
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      text += chunk.toString('utf8');
      if (text.length > BODY_LIMIT) return unreachable(`answer larger than ${BODY_LIMIT} bytes, expected a small JSON health report`);
    }
    // 503: the peer's agent loop is not alive, so its word on its services is stale.
    if (res.statusCode === 503) return unreachable('its agent is not polling (status 503)');
    if (res.statusCode !== 200) return unreachable(`status ${res.statusCode}, expected 200 with a JSON health report`);
    let body: { healthy?: unknown; host?: unknown; paused?: unknown; services?: Record<string, { health?: string; failed?: boolean; critical?: boolean }>; vip?: { held?: unknown } };
    try {
      body = JSON.parse(text);
    } catch {
      return unreachable(`not JSON: "${text.slice(0, 60)}"`);
    }
    if (typeof body?.healthy !== 'boolean') return unreachable(`no "healthy": true|false in the answer: "${text.slice(0, 60)}"`);
    const host = typeof body.host === 'string' ? body.host : cfg.url;
    const vip = typeof body.vip?.held === 'boolean' ? { vipHeld: body.vip.held } : {};
    if (body.healthy) return { reachable: true, healthy: true, reason: `${host} reports healthy`, ...vip };
    const sick = Object.entries(body.services ?? {})
      .filter(([, s]) => s?.critical !== false && (s?.health !== 'up' || s?.failed))
      .map(([n, s]) => `${n} ${s?.failed ? 'failed' : s?.health ?? 'unknown'}`);
    return { reachable: true, healthy: false, reason: `${host}: ${sick.join(', ') || 'reports unhealthy'}`, ...vip };
  } catch (e) {
    if (controller.signal.aborted) return unreachable(`no answer within ${cfg.timeout} ms`);
    const err = e as { code?: string; message?: string; cause?: { code?: string; message?: string } };
    return unreachable(err.cause?.code ?? err.code ?? err.cause?.message ?? err.message ?? String(e));
  } finally {
    clearTimeout(timer);
    if (!kept) void dispatcher.close().catch(() => undefined);
  }
}
