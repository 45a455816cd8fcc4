// What the policy sees (observations), remembers (memory) and asks for (actions).
// Plain data only: it is persisted as JSON between `check` runs.
import type { EventName } from '../catalogue/events.js';

export type ProbeKind = 'process' | 'http' | 'tcp';

export interface ProbeResult {
  probe: ProbeKind;
  ok: boolean;
  /** Why it failed, as expected-vs-seen ("status 503, expected 200"). */
  reason?: string;
  durationMs: number;
  pids?: number[];
  /** A process probe found no such process: definite, so it counts as down at once (no `fall`). */
  gone?: boolean;
}

export interface ServiceObservation {
  ok: boolean;
  probes: ProbeResult[];
  /** A systemd unit (`process.unit`) watched over D-Bus: whether systemd itself restarts or starts it now. */
  systemd?: { restarting: boolean; running: boolean; reason: string };
}

export interface KeepalivedObservation {
  running: boolean;
  pids: number[];
  reason?: string;
  /** keepalived.control track-file: what the track file holds (null: missing or unreadable). */
  track?: 0 | 1 | null;
}

export type ActionKind = 'restart' | 'keepalived.start' | 'keepalived.stop' | 'vip.release' | 'vip.reclaim';

/** How an action the loop carried out ended; fed to the next decide(). */
export interface ActionOutcome {
  /** A service name, or "keepalived". */
  target: string;
  kind: ActionKind;
  ok: boolean;
  reason?: string;
  startedAt: number;
  finishedAt: number;
  dryRun?: boolean;
}

export interface VipObservation {
  ok: boolean;
  reason?: string;
}

/** What the other host's agent says of itself (its /healthz), asked only when a failover is being weighed. */
export interface PeerObservation {
  /** It answered with a readable health report. */
  reachable: boolean;
  /** Its critical services are all healthy (false when not reachable). */
  healthy: boolean;
  /** Why it is not healthy or not reachable, or its own summary. */
  reason?: string;
  /** The peer says it holds the VIP (its /healthz `vip.held`); absent when it cannot tell. */
  vipHeld?: boolean;
}

export interface Observations {
  services: Record<string, ServiceObservation>;
  keepalived: KeepalivedObservation;
  /** The VIP's URL answered (only when keepalived.vip is configured). */
  vip?: VipObservation;
  /** The peer guard's answer (only when `peer` is configured and the policy asked for it). */
  peer?: PeerObservation;
  /** This host has the VIP on an interface (only when keepalived.vip names an address). */
  vipHeld?: boolean;
  outcomes: ActionOutcome[];
}

export type Action =
  /** pids: the service's processes when they are alive (a hang, not a crash): restart.diagnose runs on them first. */
  | { kind: 'restart'; target: string; attempt: number; reason: string; pids?: number[] }
  | { kind: 'keepalived.stop'; target: 'keepalived'; reason: string }
  | { kind: 'keepalived.start'; target: 'keepalived'; reason: string }
  /** keepalived.control track-file: write 1 (FAULT, the VIP moves) or 0 (take it back). */
  | { kind: 'vip.release'; target: 'keepalived'; reason: string }
  | { kind: 'vip.reclaim'; target: 'keepalived'; reason: string };

export type Level = 'debug' | 'info' | 'warn' | 'error';

/** A log line the decision wants written; the loop writes it. */
export interface PolicyEvent {
  level: Level;
  event: EventName;
  service?: string;
  reason?: string;
  durationMs?: number;
  [field: string]: unknown;
}

export interface LastAction {
  kind: ActionKind;
  startedAt: number;
  finishedAt?: number;
  ok?: boolean;
  reason?: string;
  /** The command's process once it was spawned, so an agent restarted mid-action can tell. */
  pid?: number;
  pidStartTime?: number;
  /** A restart's systemd job (`restart.unit`) once systemd queued it: its object path. */
  job?: string;
}

export interface ServiceMemory {
  /** After fall/rise hysteresis; "unknown" until enough polls agree. */
  health: 'unknown' | 'up' | 'down';
  good: number;
  bad: number;
  since?: number;
  /** What we are doing about it: nothing, a restart command running, or waiting for it to come up. */
  phase: 'idle' | 'restarting' | 'grace';
  /** Restart attempts used in the current episode. */
  attempt: number;
  attemptStartedAt?: number;
  graceUntil?: number;
  /** Gave up: attempts exhausted or budget spent. Cleared when healthy again. */
  failed: boolean;
  failedReason?: string;
  backoffMs?: number;
  nextHealAt?: number;
  /** Start times of restarts inside the budget window. */
  restarts: number[];
  last?: LastAction;
  /**
   * How long it took to start last time (ms): from our restart, or from the first
   * sighting of a new process that was not healthy yet, to the first of the `rise`
   * good polls (when clients are served again). Survives agent restarts.
   */
  startMs?: number;
  /** How startMs was measured, and when. */
  startFrom?: 'restart' | 'sighting';
  startAt?: number;
  /** The first good poll of the current run of good polls. */
  firstGoodAt?: number;
  /** A new process was seen, not healthy yet, at this time (it is starting). */
  sightedAt?: number;
  /** The pids the process probe found last (to tell a new process). */
  pids?: number[];
  /** `ha-watchdog retry`: the next attempt waives the backoff and the budget once. */
  retryAsked?: boolean;
  /** failover.order auto: what was chosen for this episode (said once). */
  order?: 'handover' | 'in-place';
  /** systemd restarts it by itself (Restart=): left to systemd this episode (said once). */
  leftToSystemd?: boolean;
}

/** When an action may be tried again: the current backoff, and the time it ends. */
export interface Backoff {
  ms?: number;
  nextAt?: number;
}

export interface KeepalivedMemory {
  phase: 'idle' | 'starting' | 'stopping';
  runningSince?: number;
  last?: LastAction;
  /** This host giving the VIP up, and keeping it away. */
  release: {
    /** The VIP was given up (failover, handover or switchover); cleared once it is back. */
    active: boolean;
    reason?: string;
    /** A handover: released while the service restarts (not a failure yet). */
    handover?: boolean;
    /** When it was given up, until the VIP is seen answering elsewhere (measures a handover). */
    at?: number;
    /** keepalived's pids when we last stopped it, to tell "not gone yet" from "started again". */
    stopPids?: number[];
    /** Releases inside the flap window, and whether the flap limit holds the VIP. */
    history?: number[];
    flapping?: boolean;
  };
  /** The peer guard's say. */
  guard: {
    /** A failover is due but the VIP is kept here (the peer is unhealthy too), and why. */
    held?: boolean;
    reason?: string;
    /** A handover could not be made this episode (said once). */
    handoverSkipped?: boolean;
  };
  /** The VIP as seen from here and from the peer. */
  vip: {
    /** Polls in a row the VIP did not answer; whether "no healthy host" was said. */
    bad?: number;
    unserved?: boolean;
    /** Last measured handover: from releasing the VIP to the VIP answering from the peer (ms). */
    handoverMs?: number;
    /** Both hosts hold the VIP (split brain) / neither does: polls in a row, and whether it was said. */
    split?: { polls: number; said?: boolean };
    orphaned?: { polls: number; said?: boolean };
  };
  /**
   * Pacing: stopping keepalived again while the stopped processes linger (stop), one
   * started behind our back (again, set only if it keeps coming back), starting it (start).
   */
  backoff: { stop: Backoff; again: Backoff; start: Backoff };
}

/** Maintenance: probing and reporting go on, no action is taken. Set over the control socket. */
export interface Maintenance {
  since: number;
  /** Expires by itself at this time (`pause --for`); absent: until `resume`. */
  until?: number;
  reason?: string;
  /** Who paused (the CLI's user), for `status` and the log. */
  by?: string;
  /** Last "still paused" reminder, at most one a minute. */
  remindedAt?: number;
  /** `ha-watchdog switchover`: the VIP is held on the peer for planned work, until `takeback`. */
  switchover?: boolean;
}

export interface Memory {
  version: 1;
  services: Record<string, ServiceMemory>;
  keepalived: KeepalivedMemory;
  maintenance?: Maintenance;
}

export interface Decision {
  actions: Action[];
  memory: Memory;
  events: PolicyEvent[];
}
