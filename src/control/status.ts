// What `ha-watchdog status` shows, built by the daemon from its config, its memory, the
// last poll and its recent actions. The JSON form (`status --json`) is a stable
// interface: every key is always present (null when unknown or not applicable); keys
// may be added, never renamed or removed, without raising `format`.
import { hostname, networkInterfaces, type NetworkInterfaceInfo } from 'node:os';
import { formatDuration } from '../config/duration.js';
import type { Config } from '../config/load.js';
import { budgetFreeAt, recentRestarts, RESTART_BUDGET, RESTART_WINDOW_MS } from '../policy/limits.js';
import type { ActionKind, Memory, ProbeKind } from '../policy/types.js';
import type { PollResult } from '../agent/agent.js';
import { hostHealth } from '../serve/healthz.js';
import { vipHeld } from '../probes/vip-held.js';

export { vipHeld };
import type { ActionRecord } from '../agent/recent-actions.js';
import { serviceState, type ServiceState } from '../policy/predicates.js';

export const STATUS_FORMAT = 1;

export interface StatusReport {
  format: typeof STATUS_FORMAT;
  host: string;
  generatedAt: string;
  agent: { pid: number; version: string; startedAt: string; config: string; interval: string; dryRun: boolean };
  /** null before the first poll completed. */
  lastPoll: { at: string; durationMs: number } | null;
  /** Every critical service up and none given up on. */
  healthy: boolean;
  /** switchover: the VIP is held on the peer until `takeback` (a pause that also released the VIP). */
  maintenance: { paused: boolean; since: string | null; until: string | null; remainingMs: number | null; reason: string | null; by: string | null; switchover: boolean };
  services: Record<string, ServiceStatus>;
  keepalived: KeepalivedStatus;
  vip: VipStatus;
  /** Newest first, at most 10. */
  lastActions: ActionStatus[];
}

export type { ServiceState } from '../policy/predicates.js';

export interface ServiceStatus {
  critical: boolean;
  /** One word: failed (given up), restarting (command running), waiting (after a restart, within grace), else the health. */
  state: ServiceState;
  /** After fall/rise. */
  health: 'up' | 'down' | 'unknown';
  /** When the health last changed. */
  since: string | null;
  phase: 'idle' | 'restarting' | 'grace';
  failed: boolean;
  failedReason: string | null;
  attempt: number;
  graceUntil: string | null;
  /** This service in the last poll; null if not observed yet. */
  lastPoll: { ok: boolean; probes: ProbeStatus[] } | null;
  restarts: { inWindow: number; budget: number; windowMs: number; nextAllowedAt: string | null };
  /** Healing a failed service backs off; null when not backing off. */
  backoff: { ms: number; nextTryAt: string | null } | null;
  /** How long it took to start last time (from our restart, or from the first sighting of a new process, to healthy); null until seen. */
  start: { ms: number; from: 'restart' | 'sighting'; at: string | null } | null;
  /** How a death of its process is noticed between polls; null: no process probe, or no process known yet. */
  deathNotice: DeathNotice | null;
}

/**
 * systemd: the unit's state over D-Bus; kernel: a pidwait helper per process (pidfd);
 * timer: /proc read every 250 ms (a process without a working helper).
 */
export type DeathNotice = 'systemd' | 'kernel' | 'timer';

export interface ProbeStatus {
  probe: ProbeKind;
  ok: boolean;
  durationMs: number;
  reason: string | null;
  pids: number[] | null;
}

export interface KeepalivedStatus {
  /** null before the first poll. */
  running: boolean | null;
  pids: number[];
  reason: string | null;
  phase: 'idle' | 'starting' | 'stopping';
  failedOver: boolean;
  failoverReason: string | null;
  /** The peer guard keeps the VIP here although a failover is due. */
  failoverHeld: boolean;
  failoverHeldReason: string | null;
  nextStartAt: string | null;
  runningSince: string | null;
  /** The last handover measured (release to the VIP answering from the peer); null until one was. */
  handoverMs: number | null;
  /** How a death of keepalived's process is noticed between polls (see ServiceStatus). */
  deathNotice: DeathNotice | null;
}

export interface VipStatus {
  /** keepalived.vip.url, null if not configured. */
  url: string | null;
  address: string | null;
  /** Whether one of this host's interfaces has the VIP's address right now. */
  held: boolean | 'unknown';
  note: string | null;
  /** The VIP's HTTP check in the last poll; null if not configured or not polled yet. */
  answering: boolean | null;
}

export interface ActionStatus {
  target: string;
  kind: ActionKind;
  why: string | null;
  attempt: number | null;
  startedAt: string;
  finishedAt: string | null;
  durationMs: number | null;
  result: 'running' | 'ok' | 'failed';
  reason: string | null;
  dryRun: boolean;
}

export interface StatusInput {
  config: Config;
  memory: Memory;
  last: PollResult | undefined;
  lastPollAt: number | undefined;
  actions: ActionRecord[];
  agent: { pid: number; version: string; startedAt: number; dryRun: boolean };
  now: number;
  /** os.networkInterfaces(), injectable for tests. */
  interfaces?: NodeJS.Dict<NetworkInterfaceInfo[]>;
  /** The daemon's: how a service's (or keepalived's) process death is noticed now. */
  deathNotice?: (owner: string) => DeathNotice | null;
}

const iso = (t: number | undefined): string | null => (t === undefined ? null : new Date(t).toISOString());

export function buildStatus(i: StatusInput): StatusReport {
  const { config, memory, last, now } = i;
  const critical = Object.fromEntries(Object.entries(config.services).map(([n, c]) => [n, c.critical]));
  const services: Record<string, ServiceStatus> = {};
  for (const [name, cfg] of Object.entries(config.services)) {
    const m = memory.services[name];
    const o = last?.observations.services[name];
    const recent = recentRestarts(m?.restarts ?? [], now);
    const free = budgetFreeAt(m?.restarts ?? [], now);
    services[name] = {
      critical: cfg.critical,
      state: serviceState(m),
      health: m?.health ?? 'unknown',
      since: iso(m?.since),
      phase: m?.phase ?? 'idle',
      failed: m?.failed ?? false,
      failedReason: m?.failedReason ?? null,
      attempt: m?.attempt ?? 0,
      graceUntil: m?.phase === 'grace' ? iso(m.graceUntil) : null,
      lastPoll: o ? { ok: o.ok, probes: o.probes.map((p) => ({ probe: p.probe, ok: p.ok, durationMs: p.durationMs, reason: p.reason ?? null, pids: p.pids ?? null })) } : null,
      restarts: { inWindow: recent.length, budget: RESTART_BUDGET, windowMs: RESTART_WINDOW_MS, nextAllowedAt: free > now ? iso(free) : null },
      backoff: m?.backoffMs !== undefined ? { ms: m.backoffMs, nextTryAt: iso(m.nextHealAt) } : null,
      start: m?.startMs !== undefined ? { ms: m.startMs, from: m.startFrom ?? 'restart', at: iso(m.startAt) } : null,
      deathNotice: i.deathNotice?.(name) ?? null,
    };
  }
  const k = memory.keepalived;
  const ko = last?.observations.keepalived;
  const health = hostHealth(memory, critical, ko?.running, i.lastPollAt, now);
  const m = memory.maintenance;
  const paused = health.paused && m !== undefined;
  return {
    format: STATUS_FORMAT,
    host: hostname(),
    generatedAt: new Date(now).toISOString(),
    agent: { pid: i.agent.pid, version: i.agent.version, startedAt: new Date(i.agent.startedAt).toISOString(), config: config.file, interval: formatDuration(config.interval), dryRun: i.agent.dryRun },
    lastPoll: last && i.lastPollAt !== undefined ? { at: new Date(i.lastPollAt).toISOString(), durationMs: last.durationMs } : null,
    healthy: health.healthy,
    maintenance: paused
      ? { paused, since: iso(m.since), until: iso(m.until), remainingMs: m.until !== undefined ? Math.max(0, m.until - now) : null, reason: m.reason ?? null, by: m.by ?? null, switchover: m.switchover ?? false }
      : { paused: false, since: null, until: null, remainingMs: null, reason: null, by: null, switchover: false },
    services,
    keepalived: {
      running: ko?.running ?? null,
      pids: ko?.pids ?? [],
      reason: ko?.reason ?? null,
      phase: k.phase,
      failedOver: k.release.active,
      failoverReason: k.release.active ? (k.release.reason ?? null) : null,
      failoverHeld: k.guard.held ?? false,
      failoverHeldReason: k.guard.held ? (k.guard.reason ?? null) : null,
      nextStartAt: iso(k.backoff.start.nextAt),
      runningSince: iso(k.runningSince),
      handoverMs: k.vip.handoverMs ?? null,
      deathNotice: i.deathNotice?.('keepalived') ?? null,
    },
    vip: { ...vipHeld(config.keepalived.vip?.url, i.interfaces ?? networkInterfaces()), answering: config.keepalived.vip ? (last?.observations.vip?.ok ?? null) : null },
    lastActions: i.actions.map(actionStatus),
  };
}


function actionStatus(a: ActionRecord): ActionStatus {
  return {
    target: a.target,
    kind: a.kind,
    why: a.why ?? null,
    attempt: a.attempt ?? null,
    startedAt: new Date(a.startedAt).toISOString(),
    finishedAt: iso(a.finishedAt),
    durationMs: a.finishedAt !== undefined ? a.finishedAt - a.startedAt : null,
    result: a.finishedAt === undefined ? 'running' : a.ok ? 'ok' : 'failed',
    reason: a.reason ?? null,
    dryRun: a.dryRun ?? false,
  };
}
