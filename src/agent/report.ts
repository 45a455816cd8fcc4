// What a `check` pass reports, and its exit code in the monitoring-plugin convention:
// 0 OK, 1 WARNING (degraded but handled), 2 CRITICAL, 3 UNKNOWN.
import type { Config } from '../config/load.js';
import type { Action, Memory, Observations, PolicyEvent } from '../policy/types.js';
import { keepalivedPhrase } from '../policy/predicates.js';

export const EXIT = { ok: 0, warning: 1, critical: 2, unknown: 3 } as const;
const STATUS = ['OK', 'WARNING', 'CRITICAL', 'UNKNOWN'] as const;

export interface CheckReport {
  status: (typeof STATUS)[number];
  exitCode: number;
  summary: string;
  readOnly: boolean;
  dryRun: boolean;
  note?: string;
  services: Record<string, { critical: boolean; ok: boolean; health: string; failed: boolean; problems: string[] }>;
  keepalived: { running: boolean; failedOver: boolean };
  events: PolicyEvent[];
  /** What this pass did (or, with --dry-run, would have done). */
  actions: Action[];
  /** Full process-table scans (ps) this pass needed; 0 when every known pid was confirmed through /proc. */
  scans: number;
}

export function buildReport(
  config: Config,
  memory: Memory,
  obs: Observations,
  events: PolicyEvent[],
  actions: Action[],
  flags: { readOnly: boolean; dryRun: boolean; note?: string; scans: number },
): CheckReport {
  const services: CheckReport['services'] = {};
  let code: number = EXIT.ok;
  const raise = (c: number) => (code = Math.max(code, c));
  for (const [name, cfg] of Object.entries(config.services)) {
    const o = obs.services[name];
    const m = memory.services[name];
    const ok = o?.ok ?? false;
    const failed = m?.failed ?? false;
    services[name] = { critical: cfg.critical, ok, health: m?.health ?? 'unknown', failed, problems: (o?.probes ?? []).filter((p) => !p.ok).map((p) => `${p.probe}: ${p.reason}`) };
    if (!ok || failed) raise(cfg.critical ? EXIT.critical : EXIT.warning);
  }
  // Anything this pass had to do (a restart, starting keepalived) is "degraded but handled".
  if (actions.length || events.some((e) => e.event === 'restart.ok' || e.event === 'service.recovered')) raise(EXIT.warning);
  if (events.some((e) => e.event === 'failover') || memory.keepalived.release.active) raise(EXIT.critical);
  if (!obs.keepalived.running) raise(EXIT.warning);
  if (flags.readOnly) raise(EXIT.unknown);
  const summary = [
    ...Object.entries(services).map(([n, s]) => `${n} ${s.ok ? 'up' : 'down'}${s.failed ? ' (failed)' : ''}`),
    keepalivedPhrase(obs.keepalived.running, memory.keepalived),
  ].join(', ');
  return { status: STATUS[code]!, exitCode: code, summary, readOnly: flags.readOnly, dryRun: flags.dryRun, note: flags.note, services, keepalived: { running: obs.keepalived.running, failedOver: memory.keepalived.release.active }, events, actions, scans: flags.scans };
}

export function formatReport(r: CheckReport): string {
  const lines = [`HA-WATCHDOG ${r.status} - ${r.summary}${r.note ? ` (${r.note})` : ''}`];
  for (const [name, s] of Object.entries(r.services)) for (const p of s.problems) lines.push(`  ${name}: ${p}`);
  for (const a of r.actions) lines.push(`  ${r.dryRun ? 'would ' : ''}${a.kind === 'restart' ? `restart ${a.target}` : a.kind.replace('.', ' ')}: ${a.reason}`);
  for (const e of r.events) if (e.level !== 'debug') lines.push(`  ${e.event}${e.service ? ` ${e.service}` : ''}${e.reason ? `: ${e.reason}` : ''}`);
  return lines.join('\n');
}
