// `ha-watchdog doctor`: this host's keepalived.conf and agent config checked on their
// own, then against the peer's (asked over its agent's /pair, which only answers the
// configured peer). Exit codes as `check`: 0 all well, 1 warnings, 2 errors,
// 3 the peer or this host's config could not be read.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { loadConfig, type Config } from '../config/load.js';
import { checkHost, checkPair, type Finding, type Side } from './checks.js';
import { localSide } from './side.js';
import { undiciClient } from '../net/undici.js';

export interface DoctorReport {
  findings: Finding[];
  /** Why the pair was not compared (no peer configured, the peer did not answer). */
  pairSkipped?: string;
  exitCode: number;
}

export async function doctor(configPath: string): Promise<DoctorReport> {
  let config: Config;
  try {
    config = loadConfig(configPath);
  } catch (e) {
    return { findings: [{ level: 'error', key: 'config', message: (e as Error).message }], pairSkipped: 'the agent config is invalid', exitCode: 3 };
  }
  const nonce = randomBytes(16).toString('hex');
  const mine = localSide(config, nonce);
  const findings = checkHost(mine, { keepalivedRestart: keepalivedRestart() });
  let pairSkipped: string | undefined;
  if (!config.peer) pairSkipped = 'no peer configured (peer.url): only this host was checked';
  else {
    const peer = await askPair(config.peer.url, nonce, config.peer.timeout, config.metrics?.listen.host);
    if (typeof peer === 'string') pairSkipped = peer;
    else findings.push(...checkPair(mine, peer));
  }
  const errors = findings.some((f) => f.level === 'error');
  const exitCode = errors ? 2 : pairSkipped && config.peer ? 3 : findings.length ? 1 : 0;
  return { findings, ...(pairSkipped && { pairSkipped }), exitCode };
}

export function formatDoctor(r: DoctorReport): string {
  const lines = r.findings.map((f) => {
    const at = f.where ? `${f.where.file}:${f.where.line}: ` : '';
    const peer = f.peer ? ` (peer: ${f.peer.file}:${f.peer.line})` : '';
    return `${f.level}: ${at}${f.key}: ${f.message}${peer}`;
  });
  if (r.pairSkipped) lines.push(`note: pair not compared: ${r.pairSkipped}`);
  if (!r.findings.length) lines.push(r.pairSkipped ? 'this host: no problem found' : 'this host and its peer: no problem found');
  return `${lines.join('\n')}\n`;
}

/**
 * The peer's side, from its agent's /pair; or why it could not be had. Asked from this
 * agent's own listen address when it has one: that is the address the peer's
 * peer.url names, and the only one its /pair answers.
 */
async function askPair(peerUrl: string, nonce: string, timeoutMs: number, localAddress?: string): Promise<Side | string> {
  const url = new URL('/pair', peerUrl);
  url.searchParams.set('nonce', nonce);
  const { Agent, request } = undiciClient();
  const dispatcher = new Agent({ connect: { timeout: timeoutMs }, ...(localAddress && { localAddress }) });
  try {
    const res = await request(url, { dispatcher, signal: AbortSignal.timeout(timeoutMs), headers: { 'user-agent': 'ha-watchdog doctor' } });
    const text = await res.body.text();
    if (res.statusCode === 404) return `the peer's agent (${url.origin}) serves no /pair: it needs metrics.listen and peer.url pointing back at this host`;
    if (res.statusCode === 403) return `the peer's agent (${url.origin}) refused: its peer.url does not name this host's address (${text.trim()})`;
    if (res.statusCode !== 200) return `the peer's agent (${url.origin}) answered ${res.statusCode}`;
    const body = JSON.parse(text) as Side;
    if (!body?.keepalived || !body.agent) return `the peer's agent (${url.origin}) answered something else than a /pair summary`;
    return body;
  } catch (e) {
    const err = e as { code?: string; message?: string; cause?: { code?: string } };
    return `the peer's agent (${url.origin}) could not be asked: ${err.cause?.code ?? err.code ?? err.message}`;
  } finally {
    void dispatcher.close().catch(() => undefined);
  }
}

/** keepalived.service's Restart= on a systemd host (the drop-in sets "no"); undefined elsewhere. */
function keepalivedRestart(): { value: string } | undefined {
  if (!existsSync('/run/systemd/system')) return undefined;
  try {
    const value = execFileSync('/usr/bin/systemctl', ['show', 'keepalived.service', '-p', 'Restart', '--value'], { encoding: 'utf8', timeout: 5000 }).trim();
    return value ? { value } : undefined;
  } catch {
    return undefined;
  }
}
