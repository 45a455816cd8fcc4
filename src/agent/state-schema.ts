// The shape of stateDir/state.json, checked on load: a state that does not fit is set
// aside, never fatal. Unknown keys are dropped (the next save leaves them out). Every
// field of the memory types (src/policy/types.ts) is here: the key checks at the end
// fail the type-check when a field is added there and not here.
import { z } from 'zod';
import type { KeepalivedMemory, LastAction, Maintenance, Memory, ServiceMemory } from '../policy/types.js';

const num = z.number();
const int = z.number().int();
const text = z.string().max(64 * 1024);
const pidList = z.array(int).max(4096);

const ActionKindSchema = z.enum(['restart', 'keepalived.start', 'keepalived.stop', 'vip.release', 'vip.reclaim']);

export const LastActionSchema = z.object({
  kind: ActionKindSchema,
  startedAt: num,
  finishedAt: num.optional(),
  ok: z.boolean().optional(),
  reason: text.optional(),
  pid: int.optional(),
  pidStartTime: num.optional(),
  job: z.string().max(1024).optional(),
});

export const ServiceMemorySchema = z.object({
  health: z.enum(['unknown', 'up', 'down']),
  good: int,
  bad: int,
  since: num.optional(),
  phase: z.enum(['idle', 'restarting', 'grace']),
  attempt: int,
  attemptStartedAt: num.optional(),
  graceUntil: num.optional(),
  failed: z.boolean(),
  failedReason: text.optional(),
  backoffMs: num.optional(),
  nextHealAt: num.optional(),
  restarts: z.array(num).max(10_000),
  last: LastActionSchema.optional(),
  startMs: num.optional(),
  startFrom: z.enum(['restart', 'sighting']).optional(),
  startAt: num.optional(),
  firstGoodAt: num.optional(),
  sightedAt: num.optional(),
  pids: pidList.optional(),
  retryAsked: z.boolean().optional(),
  order: z.enum(['handover', 'in-place']).optional(),
  leftToSystemd: z.boolean().optional(),
});

const BackoffSchema = z.object({ ms: num.optional(), nextAt: num.optional() });
const pollsSaid = z.object({ polls: int, said: z.boolean().optional() });

const KeepalivedGroupsSchema = z.object({
  phase: z.enum(['idle', 'starting', 'stopping']),
  runningSince: num.optional(),
  last: LastActionSchema.optional(),
  release: z.object({
    active: z.boolean(),
    reason: text.optional(),
    handover: z.boolean().optional(),
    at: num.optional(),
    stopPids: pidList.optional(),
    history: z.array(num).max(1000).optional(),
    flapping: z.boolean().optional(),
  }),
  guard: z.object({ held: z.boolean().optional(), reason: text.optional(), handoverSkipped: z.boolean().optional() }),
  vip: z.object({ bad: int.optional(), unserved: z.boolean().optional(), handoverMs: num.optional(), split: pollsSaid.optional(), orphaned: pollsSaid.optional() }),
  backoff: z.object({ stop: BackoffSchema, again: BackoffSchema, start: BackoffSchema }),
});

/**
 * The state of an agent before the keepalived memory was grouped (flat keys:
 * failedOver, handoverMs, nextStartAt, ...) is read into the groups, so an upgrade
 * keeps what was learned and whether the VIP was given up.
 */
function regroup(raw: unknown): unknown {
  if (typeof raw !== 'object' || raw === null || !('failedOver' in raw) || 'release' in raw) return raw;
  const k = raw as Record<string, unknown>;
  return {
    phase: k.phase,
    runningSince: k.runningSince,
    last: k.last,
    release: { active: k.failedOver, reason: k.failoverReason, handover: k.handedOver, at: k.releasedAt, stopPids: k.stopPids, history: k.releases, flapping: k.flapping },
    guard: { held: k.held, reason: k.heldReason, handoverSkipped: k.handoverSkipped },
    vip: { bad: k.vipBad, unserved: k.vipUnserved, handoverMs: k.handoverMs, split: k.split, orphaned: k.orphaned },
    backoff: { stop: { ms: k.stopBackoffMs, nextAt: k.nextStopAt }, again: { ms: k.againBackoffMs, nextAt: k.nextAgainAt }, start: { ms: k.startBackoffMs, nextAt: k.nextStartAt } },
  };
}

export const KeepalivedMemorySchema = z.preprocess(regroup, KeepalivedGroupsSchema);

export const MaintenanceSchema = z.object({
  since: num,
  until: num.optional(),
  reason: text.optional(),
  by: text.optional(),
  remindedAt: num.optional(),
  switchover: z.boolean().optional(),
});

/** Service names are config keys; "__proto__" and friends would be trouble as object keys. */
const serviceName = z
  .string()
  .min(1)
  .max(256)
  .refine((n) => !['__proto__', 'constructor', 'prototype'].includes(n), 'not a usable service name');

export const MemorySchema = z.object({
  version: z.literal(1),
  services: z.record(serviceName, ServiceMemorySchema),
  keepalived: KeepalivedMemorySchema,
  maintenance: MaintenanceSchema.optional(),
});

/** The shape error in one line: where and what, never a value from the file. */
export function shapeError(error: z.ZodError): string {
  const issues = error.issues.slice(0, 3).map((i) => {
    const where = i.path.length ? i.path.map((p) => (typeof p === 'number' ? `[${p}]` : String(p).slice(0, 64))).join('.') : '(top)';
    return `${where}: ${i.message.slice(0, 160)}`;
  });
  const more = error.issues.length > 3 ? ` (and ${error.issues.length - 3} more)` : '';
  return `not a version-1 state: ${issues.join('; ')}${more}`;
}

// Compile-time: every field of the memory types is in the schema (a field added there
// and not here would be dropped at the next load: the type-check fails instead).
type Covers<Schema, T> = [Exclude<keyof T, keyof Schema>] extends [never] ? true : false;
type Check<T extends true> = T;
export type SchemaCoversTypes = [
  Check<Covers<z.infer<typeof ServiceMemorySchema>, ServiceMemory>>,
  Check<Covers<z.infer<typeof KeepalivedGroupsSchema>, KeepalivedMemory>>,
  Check<Covers<z.infer<typeof KeepalivedGroupsSchema>['release'], KeepalivedMemory['release']>>,
  Check<Covers<z.infer<typeof KeepalivedGroupsSchema>['guard'], KeepalivedMemory['guard']>>,
  Check<Covers<z.infer<typeof KeepalivedGroupsSchema>['vip'], KeepalivedMemory['vip']>>,
  Check<Covers<z.infer<typeof MaintenanceSchema>, Maintenance>>,
  Check<Covers<z.infer<typeof LastActionSchema>, LastAction>>,
  Check<Covers<z.infer<typeof MemorySchema>, Memory>>,
  Check<z.infer<typeof MemorySchema> extends Memory ? true : false>,
];
