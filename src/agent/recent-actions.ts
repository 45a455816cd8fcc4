// The last few actions the agent started and how each ended, newest first, for
// `status`. Kept in memory only; after an agent restart it starts from the last action
// of each service and of keepalived that the saved state remembers.
import type { Action, ActionKind, ActionOutcome, Memory } from '../policy/types.js';

export interface ActionRecord {
  /** A service name, or "keepalived". */
  target: string;
  kind: ActionKind;
  /** Why it was decided (absent for one remembered from the saved state). */
  why?: string;
  attempt?: number;
  startedAt: number;
  /** Absent while it runs. */
  finishedAt?: number;
  ok?: boolean;
  /** How it ended: exit code, timeout, ... */
  reason?: string;
  dryRun?: boolean;
}

export const RECENT_ACTIONS = 10;

export class RecentActions {
  private readonly ring: ActionRecord[] = [];

  constructor(private readonly max = RECENT_ACTIONS) {}

  /**
   * Seeds from the saved state: each target's last finished action, oldest first (one
   * still in flight when the agent stopped is the service's `waiting` state instead).
   */
  static fromMemory(memory: Memory, max = RECENT_ACTIONS): RecentActions {
    const r = new RecentActions(max);
    const lasts = [
      ...Object.entries(memory.services).map(([target, m]) => ({ target, last: m.last })),
      { target: 'keepalived', last: memory.keepalived.last },
    ];
    lasts
      .filter((l): l is { target: string; last: NonNullable<typeof l.last> } => l.last?.finishedAt !== undefined)
      .sort((a, b) => a.last.startedAt - b.last.startedAt)
      .forEach(({ target, last }) => r.push({ target, kind: last.kind, startedAt: last.startedAt, finishedAt: last.finishedAt, ok: last.ok, reason: last.reason }));
    return r;
  }

  started(action: Action, at: number, dryRun: boolean): ActionRecord {
    return this.push({ target: action.target, kind: action.kind, why: action.reason, ...(action.kind === 'restart' && { attempt: action.attempt }), startedAt: at, ...(dryRun && { dryRun }) });
  }

  finished(rec: ActionRecord, o: ActionOutcome): void {
    Object.assign(rec, { startedAt: o.startedAt, finishedAt: o.finishedAt, ok: o.ok, reason: o.reason });
  }

  /** Newest first. */
  list(): ActionRecord[] {
    return this.ring.map((r) => ({ ...r })).reverse();
  }

  private push(rec: ActionRecord): ActionRecord {
    this.ring.push(rec);
    if (this.ring.length > this.max) this.ring.shift();
    return rec;
  }
}
