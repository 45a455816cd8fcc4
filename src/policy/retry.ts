// `ha-watchdog retry SERVICE`: an operator repaired something and wants a restart
// attempt now, not at the end of the backoff (up to 5 min) or of the restart budget.
// Waived once: if that attempt fails too, the backoff goes on from where it was.
import type { Memory } from './types.js';
import { pausedAt } from './predicates.js';

export type RetryAnswer = { ok: true; memory: Memory; what: string } | { ok: false; error: string };

export function retryNow(memory: Memory, service: string, hasRestart: boolean, now: number): RetryAnswer {
  const mem = memory.services[service];
  if (!mem) return { ok: false, error: `${service} has not been polled yet` };
  if (!hasRestart) return { ok: false, error: `${service} has no restart command configured; nothing to try` };
  if (mem.phase !== 'idle') return { ok: false, error: `${service} is being restarted already (${mem.phase === 'restarting' ? 'the command runs' : 'waiting for it to come up'})` };
  if (!mem.failed && mem.health !== 'down') return { ok: false, error: `${service} is ${mem.health === 'up' ? 'healthy' : 'not known to be down'}; nothing to retry` };
  const next: Memory = structuredClone(memory);
  const m = next.services[service]!;
  m.retryAsked = true;
  m.nextHealAt = now;
  const paused = pausedAt(next.maintenance, now);
  const waived = [m.backoffMs !== undefined && 'the backoff', 'the restart budget'].filter(Boolean).join(' and ');
  return { ok: true, memory: next, what: `${service}: a restart attempt at the next poll (${waived} waived once)${paused ? '; but maintenance is on: nothing is done until `ha-watchdog resume`' : ''}` };
}
