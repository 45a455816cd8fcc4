// The table cases' player: a sequence of polls through decide(), with what each poll
// observed written compactly (who is up, keepalived, the peer, the track file).
import type { Config } from '../../src/config/load.js';
import { decide, freshMemory, type PolicyConfig } from '../../src/policy/decide.js';
import type { Action, ActionOutcome, Memory, PolicyEvent } from '../../src/policy/types.js';

export type Svc = Config['services'][string];
export const svc = (over: Partial<Svc> = {}): Svc => ({
  critical: true,
  process: { name: 'java', namespace: 'own' },
  fall: 2,
  rise: 2,
  retryDelay: 100,
  restart: { command: ['/bin/true'], timeout: 60_000, grace: 30_000, attempts: 1 },
  ...over,
});

export interface Poll {
  /** Seconds since the start of the case. */
  t: number;
  up?: Record<string, boolean>;
  keepalived?: boolean;
  /** keepalived's pids (default: none listed). */
  kpids?: number[];
  /** The VIP's URL answered (undefined: no vip check configured). */
  vip?: boolean;
  /** A service's process runs with these pids (its process probe passes; `up` is then its HTTP probe). */
  pids?: Record<string, number[]>;
  /** Services whose process is gone (a definite process-probe failure, no fall). */
  gone?: Record<string, boolean>;
  /** What the peer's /healthz said (undefined: not asked). */
  peer?: { reachable: boolean; healthy: boolean; reason?: string; vipHeld?: boolean };
  /** This host has the VIP on an interface (undefined: cannot tell). */
  held?: boolean;
  /** What the keepalived track file holds (track-file control). */
  track?: 0 | 1 | null;
  /** What systemd says it does about a service's unit (D-Bus): restarting by itself or not. */
  systemd?: Record<string, boolean>;
  /** systemd says the unit has a main process again (default: its process probe passes and systemd is not restarting it). */
  sdRunning?: Record<string, boolean>;
  outcomes?: Array<Omit<ActionOutcome, 'startedAt' | 'finishedAt'>>;
}

export interface Played {
  actions: Action[][];
  events: PolicyEvent[][];
  memory: Memory;
}

export function play(services: Record<string, Svc>, polls: Poll[], memory: Memory = freshMemory(), config: Omit<PolicyConfig, 'services'> = {}): Played {
  const out: Played = { actions: [], events: [], memory };
  for (const p of polls) {
    const now = p.t * 1000;
    const d = decide(
      {
        services: Object.fromEntries(
          Object.keys(services).map((n) => {
            const gone = p.gone?.[n] ?? false;
            const ok = !gone && (p.up?.[n] ?? true);
            const pids = p.pids?.[n];
            const sd = p.systemd?.[n];
            const systemd = sd === undefined ? {} : { systemd: { restarting: sd, running: p.sdRunning?.[n] ?? (!gone && !sd), reason: sd ? 'SubState auto-restart' : 'Restart=no' } };
            if (pids) {
              const http = { probe: 'http' as const, ok, durationMs: 500, reason: ok ? undefined : 'no complete answer within 500 ms' };
              return [n, { ok, probes: [{ probe: 'process' as const, ok: true, durationMs: 1, pids }, http], ...systemd }];
            }
            return [n, { ok, probes: [{ probe: 'process' as const, ok, durationMs: 1, reason: ok ? undefined : `no ${n} process`, ...(gone && { gone }) }], ...systemd }];
          }),
        ),
        keepalived: { running: p.keepalived ?? true, pids: p.kpids ?? [], ...(p.track !== undefined && { track: p.track }) },
        ...(p.peer && { peer: p.peer }),
        ...(p.held !== undefined && { vipHeld: p.held }),
        ...(p.vip !== undefined && { vip: { ok: p.vip, reason: p.vip ? undefined : 'connect ECONNREFUSED' } }),
        outcomes: (p.outcomes ?? []).map((o) => ({ ...o, startedAt: now - 500, finishedAt: now })),
      },
      out.memory,
      { services, ...config },
      now,
    );
    out.actions.push(d.actions);
    out.events.push(d.events);
    out.memory = d.memory;
  }
  return out;
}

export const kinds = (p: Played) => p.actions.map((a) => a.map((x) => `${x.kind}:${x.target}`).join(','));
export const eventNames = (p: Played) => p.events.flat().map((e) => e.event);
export const ok = (target: string, kind: ActionOutcome['kind'] = 'restart') => ({ target, kind, ok: true });
export const bad = (target: string, reason = 'exit code 1', kind: ActionOutcome['kind'] = 'restart') => ({ target, kind, ok: false, reason });
export const T = { tomcat: svc() };
export const healthy = [{ t: 0 }, { t: 1 }];

