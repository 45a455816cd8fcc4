// `ha-watchdog status` for a human: a header, the maintenance state, one row per
// service (failing probes spelled out under it), keepalived, the VIP, the last actions.
// Times are the host's local time; the JSON form has them in ISO.
import type { ActionStatus, ServiceStatus, StatusReport } from './status.js';
export { human };
import { human } from '../config/duration.js';

export function formatStatus(r: StatusReport): string {
  const now = Date.parse(r.generatedAt);
  const out: string[] = [];
  out.push(`ha-watchdog ${r.agent.version} on ${r.host} (pid ${r.agent.pid}, up ${human(now - Date.parse(r.agent.startedAt))}${r.agent.dryRun ? ', DRY RUN' : ''}), polling every ${r.agent.interval}`);
  out.push(
    r.lastPoll
      ? `last poll ${human(now - Date.parse(r.lastPoll.at))} ago (${r.lastPoll.durationMs} ms); ${r.healthy ? 'healthy' : 'NOT healthy'}`
      : 'no poll completed yet',
  );
  out.push('');

  const m = r.maintenance;
  if (m.paused) {
    const until = m.until ? `until ${clock(m.until, now)} (${human(m.remainingMs ?? 0)} left)` : 'until `ha-watchdog resume`';
    out.push(`MAINTENANCE  ${m.switchover ? 'SWITCHED OVER (the VIP is held on the peer until `ha-watchdog takeback`)' : 'PAUSED'} since ${clock(m.since!, now)}${m.by ? ` by ${m.by}` : ''}, ${m.switchover ? 'until takeback' : until}${m.reason ? `: ${m.reason}` : ''}`);
    out.push('             probing and reporting only: no restart, no failover, no keepalived start');
  } else out.push('MAINTENANCE  not paused');
  out.push('');

  const rows = [['SERVICE', 'STATE', 'SINCE', 'LAST PROBES', 'STARTS IN', 'RESTARTS', 'BACKOFF']];
  const problems: string[] = [];
  for (const [name, s] of Object.entries(r.services)) {
    rows.push([name, stateCell(s), s.since ? `${clock(s.since, now)} (${human(now - Date.parse(s.since))})` : '-', probesCell(s), s.start ? human(s.start.ms) : '-', `${s.restarts.inWindow}/${s.restarts.budget} in ${human(s.restarts.windowMs)}`, backoffCell(s, now)]);
    for (const p of s.lastPoll?.probes ?? []) if (!p.ok) problems.push(`  ${name} ${p.probe}: ${p.reason ?? 'failed'}`);
    if (s.failed && s.failedReason) problems.push(`  ${name} failed: ${s.failedReason}`);
  }
  out.push(...table(rows), ...problems, '');

  const k = r.keepalived;
  const kstate =
    k.running === null ? 'unknown (no poll yet)' : k.running ? `running (pid${k.pids.length > 1 ? 's' : ''} ${k.pids.join(' ')})` : `NOT running${k.reason ? ` (${k.reason})` : ''}`;
  const knotes = [
    k.failedOver && `failed over: ${k.failoverReason ?? 'a critical service failed'}`,
    k.failoverHeld && `failover held: ${k.failoverHeldReason ?? 'the peer is not healthy either'}`,
    k.phase !== 'idle' && `${k.phase}`,
    k.nextStartAt && !k.running && Date.parse(k.nextStartAt) > now && `next start in ${human(Date.parse(k.nextStartAt) - now)}`,
    k.handoverMs !== null && `last handover took ${human(k.handoverMs)}`,
  ].filter(Boolean);
  out.push(`KEEPALIVED   ${kstate}${knotes.length ? `; ${knotes.join('; ')}` : ''}`);
  const v = r.vip;
  const held = v.held === 'unknown' ? `unknown (${v.note})` : v.held ? `${v.address} held by this host` : `${v.address} not on this host`;
  out.push(`VIP          ${held}${v.answering === null ? '' : v.answering ? ', answers' : ', NOT answering'}`);
  const notice = deathNoticeLine(r);
  if (notice) out.push(`DEATHS SEEN  ${notice}`);
  out.push('');

  if (r.lastActions.length === 0) out.push('LAST ACTIONS none');
  else {
    out.push('LAST ACTIONS');
    out.push(...table([['STARTED', 'TARGET', 'ACTION', 'RESULT', 'TOOK', 'WHY / OUTCOME'], ...r.lastActions.map((a) => actionRow(a, now))]));
  }
  return `${out.join('\n')}\n`;
}

function stateCell(s: ServiceStatus): string {
  const word = s.state === 'waiting' ? 'waiting (after restart)' : s.state;
  return `${word}${s.critical ? '' : ' (non-critical)'}`;
}

function probesCell(s: ServiceStatus): string {
  if (!s.lastPoll) return 'not polled yet';
  return s.lastPoll.probes.map((p) => `${p.probe} ${p.ok ? 'ok' : 'FAIL'} ${latency(p.durationMs)}`).join(', ');
}

function backoffCell(s: ServiceStatus, now: number): string {
  if (!s.backoff) return s.restarts.nextAllowedAt ? `budget spent, next restart ${clock(s.restarts.nextAllowedAt, now)}` : '-';
  const next = s.backoff.nextTryAt ? Date.parse(s.backoff.nextTryAt) - now : 0;
  return `${human(s.backoff.ms)}, next try ${next > 0 && s.backoff.nextTryAt ? `${clock(s.backoff.nextTryAt, now)} (in ${human(next)})` : 'now'}`;
}

function actionRow(a: ActionStatus, now: number): string[] {
  const what = a.kind === 'restart' ? `restart${a.attempt ? ` #${a.attempt}` : ''}` : a.kind;
  const result = a.dryRun ? 'dry run' : a.result;
  const detail = [a.why, a.reason && a.result !== 'running' ? `-> ${a.reason}` : null].filter(Boolean).join(' ');
  return [clock(a.startedAt, now), a.target, what, result, a.durationMs === null ? '-' : human(a.durationMs), detail || '-'];
}

/** Columns padded to their widest cell; the last column is not padded. */
export function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd());
}

/** A probe's latency: "0.4ms", "7.5ms", "80ms". */
const latency = (ms: number) => `${ms < 10 ? Math.round(ms * 10) / 10 : Math.round(ms)}ms`;

/** "850ms", "1.5s", "12s", "5m12s", "2h03m", "3d4h". */

/** Local "HH:MM:SS" within a day of now, else "YYYY-MM-DD HH:MM". */
export function clock(isoTime: string, now: number): string {
  const t = new Date(isoTime);
  const p = (n: number) => String(n).padStart(2, '0');
  const hms = `${p(t.getHours())}:${p(t.getMinutes())}:${p(t.getSeconds())}`;
  if (Math.abs(now - t.getTime()) < 24 * 3_600_000) return hms;
  return `${t.getFullYear()}-${p(t.getMonth() + 1)}-${p(t.getDate())} ${hms.slice(0, 5)}`;
}

/** How a process death is noticed between polls, grouped: "by systemd: tomcat; by the kernel (pidwait): nginx, keepalived". */
function deathNoticeLine(r: StatusReport): string {
  const by: Record<string, string[]> = { systemd: [], kernel: [], timer: [] };
  for (const [name, s] of Object.entries(r.services)) if (s.deathNotice) by[s.deathNotice]!.push(name);
  if (r.keepalived.deathNotice) by[r.keepalived.deathNotice]!.push('keepalived');
  const words: Record<string, string> = { systemd: 'by systemd (D-Bus)', kernel: 'by the kernel (pidwait)', timer: 'by reading /proc every 250 ms' };
  return Object.entries(by)
    .filter(([, names]) => names.length)
    .map(([k, names]) => `${words[k]}: ${names.join(', ')}`)
    .join('; ');
}
