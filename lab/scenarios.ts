// The lab scenarios, ONE table (SCENARIOS, by name), played the same way whatever
// supervises the hosts (ha-watchdog, the seed's bash loop, the vrrp_script peer,
// nothing): the same lab, the same fault at the same moment, the same observation
// window. Each entry has its name, its fault (`inject`), what is right (`expect`,
// `judge`) and the lab it needs (`lab`); play() is generic. Tests
// (test/lab/scenarios-*.test.ts) add their assertions on the agent's events; the bench
// (bench/lab.ts) compares supervisors; the demo (lab/demo.ts) shows kill-restart-fails
// and the repair live.
// The classic scenarios are issue 3's; their short ids ('1' ... '13', '3b', '9b', used by
// the tests' titles and BENCH_LAB_SCENARIOS) are aliases of their names:
// `scenario('2') === SCENARIOS['kill-restart-fails']`. Those of the configured labs
// (the peer guard, failover.order handover-first, keepalived.control track-file) need
// `Lab.up({ agent: 'watchdog', ...scenario(key).lab })`.
// The realistic scenarios (REALISTIC: slow-crash, slow-hang, hang-start-fails,
// http-500, health-flap, slow-repair, fast-crash, switchover; their id is their name)
// run the lab webapp with a real deployment time (lab.deploySeconds, 20 s) and tomcat's
// checks on its /health, and may be played again on the same lab after `resetLab()`
// (lab/reset.ts).
//
//   const lab = await Lab.up({ agent: 'watchdog' });
//   try { const r = await play(lab, 'kill-restart-fails'); console.log(r.metrics); } finally { await lab.down(); }
import { setTimeout as sleep } from 'node:timers/promises';
import type { Sample } from './client.js';
import type { AgentEvent } from './events.js';
import type { HostName } from './host.js';
import type { AgentKind, Lab, LabConfig, LabOptions } from './lab.js';
import { tomcatProblem } from './reset.js';
import { between, endsOn, errorCount, errorMs, pathText, settledAt } from './measure.js';
import { type VipHolder, type VipSample, VipSampler } from './vip.js';

export type RealisticId = 'slow-crash' | 'slow-hang' | 'hang-start-fails' | 'http-500' | 'health-flap' | 'slow-repair' | 'fast-crash' | 'switchover';
/** The classic scenarios' names (issue 3's scenarios, and those of the configured labs). */
export type ClassicName =
  | 'kill-restart-works'
  | 'kill-restart-fails'
  | 'hang-restart-works'
  | 'hang-restart-fails'
  | 'keepalived-killed'
  | 'decoy-restart-fails'
  | 'repair-after-failover'
  | 'nginx-killed'
  | 'both-dead'
  | 'guard-repair-backup'
  | 'guard-repair-holder'
  | 'handover-peer-healthy'
  | 'handover-peer-unhealthy'
  | 'track-file-repair'
  | 'track-file-keepalived-killed';
/** A scenario's name: the key of SCENARIOS. */
export type ScenarioName = ClassicName | RealisticId;
/** A scenario's short id (the classic ones' numbers; a realistic one's id is its name), kept in results. */
export type ScenarioId = '1' | '2' | '3' | '3b' | '4' | '5' | '6' | '7' | '8' | '9' | '9b' | '10' | '11' | '12' | '13' | RealisticId;
/** A name, or an id as its alias. */
export type ScenarioKey = ScenarioName | ScenarioId;

/** What a scenario's fault function gets (ScenarioSpec.inject). */
export interface FaultContext {
  lab: Lab;
  /** Records a mark now and returns its time (epoch ms). */
  mark: (label: string) => number;
  facts: PlayResult['facts'];
  /** On a configured lab (the entry has `lab`), records a snapshot (facts.snapshots) now; otherwise nothing. */
  snap: (label: string) => Promise<void>;
  /** A's ctl.log is reported (facts.ctlA) from its current end on, not from before the fault. */
  ctlFromNow: () => void;
  log?: (msg: string) => void;
}

export interface ScenarioSpec {
  /** The key in SCENARIOS: what tests, the bench and the demo call it. */
  name: ScenarioName;
  /** Its short id (an alias of the name), kept in the bench's results. */
  id: ScenarioId;
  title: string;
  /** The fault, in words. */
  fault: string;
  /** Who should answer through the VIP at the end ('none': nobody can). */
  expect: HostName | 'none';
  /** What "right" means for this scenario. */
  right: string;
  /** Observation window after the fault (fromRepair: after the repair), ms. */
  windowMs: number;
  /** The lab's configuration options the scenario needs (none: the default lab). */
  lab?: Pick<LabOptions, 'order' | 'control' | 'guard' | 'deploySeconds' | 'tomcatHealth'>;
  /**
   * Plays on a lab of its own in the bench (not shared with the scenarios of the same
   * lab options): what the agent learns here (a start time) must not change them.
   */
  labGroup?: string;
  /** Its measured span starts at the repair, not at the first fault (repair-after-failover, ...). */
  fromRepair?: boolean;
  /** Injects the fault and returns the time the measured span starts (the fault, or the repair). */
  inject: (ctx: FaultContext) => Promise<number>;
  /** The scenario's own verdict, added to measure()'s generic one (expected host at the end). */
  judge?: (r: Omit<PlayResult, 'metrics'>, wrong: string[]) => void;
}

/** Lab options of the realistic scenarios: a 20 s deployment, tomcat checked on /health. */
const SLOW = { deploySeconds: 20, tomcatHealth: '/health' } as const;
const FAST = { deploySeconds: 0, tomcatHealth: '/health' } as const;

/** Holders of the VIP from the first mark on (the last sample before it included), repeats collapsed. */
export function vipHolderPath(r: Pick<PlayResult, 'vip' | 'marks' | 'fault' | 'end'>): string[] {
  const from = r.marks[0]?.t ?? r.fault;
  const before = r.vip.filter((s) => s.t < from).pop();
  const out: string[] = [];
  for (const s of [...(before ? [before] : []), ...r.vip.filter((x) => x.t >= from && x.t <= r.end)]) {
    if (out[out.length - 1] !== s.holder) out.push(s.holder);
  }
  return out;
}

/** Changes of the host holding the VIP along a path ('none' in between, the VRRP handover, is not a move). */
export function vipMoves(path: string[]): number {
  const hosts = path.filter((h) => h !== 'none' && h !== '(no samples)');
  let n = 0;
  for (let i = 1; i < hosts.length; i++) if (hosts[i] !== hosts[i - 1]) n += 1;
  return n;
}

// --- the verdicts' parts ----------------------------------------------------------

type Played = Omit<PlayResult, 'metrics'>;

/** VIP holders sampled from the measured fault to the end. */
const holdersInWindow = (r: Played): Set<VipHolder> => new Set(r.vip.filter((s) => s.t >= r.fault && s.t <= r.end).map((s) => s.holder));
const windowVipPath = (r: Played): string => vipPathText(r.vip, r.fault, r.end);
const markAt = (r: Played, label: string): number => r.marks.find((m) => m.label === label)?.t ?? r.start;

/** The VIP never left A and the client never saw B, from the fault on. */
function stayedOnA(r: Played, wrong: string[]): void {
  if ([...holdersInWindow(r)].some((h) => h !== 'A')) wrong.push(`the VIP left A (${windowVipPath(r)})`);
  if (between(r.samples, r.fault, r.end).some((s) => s.who === 'B')) wrong.push('the client saw B');
}
function healedOnA(r: Played, wrong: string[]): void {
  if (r.facts.healedA === false) wrong.push(`A's tomcat is not healthy at the end (${r.facts.healthA ?? '?'})`);
}
function noFlapping(r: Played, wrong: string[]): void {
  const path = vipHolderPath(r);
  if (vipMoves(path) > 2) wrong.push(`the VIP flapped (${path.join(' → ')})`);
}
/** A, healed, never flapping: the verdict of every scenario that ends on a healed A. */
function healedNoFlapping(r: Omit<PlayResult, 'metrics'>, wrong: string[]): void {
  healedOnA(r, wrong);
  noFlapping(r, wrong);
}
function noErrorAfterRepair(r: Played, wrong: string[]): void {
  const errs = errorCount(r.samples, r.fault, r.end);
  if (errs > 0) wrong.push(`client requests failed after the repair (${errs})`);
}

// --- the faults' parts -------------------------------------------------------------

/** SIGKILL (or another signal) to A's tomcat at the mark 'fault'. */
async function killTomcatA(ctx: FaultContext, sig: 'KILL' | 'STOP' = 'KILL'): Promise<number> {
  const t = ctx.mark('fault');
  await ctx.lab.killTomcat('A', sig);
  return t;
}

async function killWithStartFailing(ctx: FaultContext, sig: 'KILL' | 'STOP'): Promise<number> {
  ctx.lab.setTomcatStartFails('A', true);
  return killTomcatA(ctx, sig);
}

/** Every keepalived process of A (parent and VRRP child) SIGKILLed at the mark 'fault'. */
async function killKeepalivedA(ctx: FaultContext): Promise<number> {
  const t = ctx.mark('fault');
  // Like `killall -9 keepalived`: nothing removes the VIP from A's eth0. (SIGKILL to the
  // parent alone makes the child exit cleanly, as after a TERM.)
  await ctx.lab.hosts.A.ctlOk('keepalived', 'kill', 'KILL');
  return t;
}

/**
 * A's tomcat start made to fail and tomcat SIGKILLed (mark 'kill'); once the client is
 * on B (or after 25 s) and 2 s more, A's start works again: the returned mark 'repair'.
 */
async function failThenRepair(ctx: FaultContext, name: string, opts: { snapOnB?: boolean } = {}): Promise<number> {
  const { lab, mark, log } = ctx;
  lab.setTomcatStartFails('A', true);
  mark('kill');
  await lab.killTomcat('A', 'KILL');
  try {
    await lab.client.waitForWho('B', 25_000, 5);
    mark('client on B');
  } catch {
    log?.(`${name}: the client never settled on B; repairing anyway`);
  }
  if (opts.snapOnB) await ctx.snap('client on B');
  await sleep(2_000);
  const t = mark('repair');
  lab.setTomcatStartFails('A', false);
  return t;
}

/** Both tomcats' starts made to fail, both SIGKILLed; the returned mark (fault, or kill) is taken before the kills. */
async function killBoth(ctx: FaultContext, label: string): Promise<number> {
  ctx.lab.setTomcatStartFails('A', true);
  ctx.lab.setTomcatStartFails('B', true);
  const t = ctx.mark(label);
  await Promise.all([ctx.lab.killTomcat('A', 'KILL'), ctx.lab.killTomcat('B', 'KILL')]);
  return t;
}

/** The peer guard's hold: both tomcats dead; once A logged failover.held (and 5 s more), `repaired` can start again. */
async function heldThenRepair(ctx: FaultContext, name: string, repaired: HostName): Promise<number> {
  const kill = await killBoth(ctx, 'kill');
  try {
    await ctx.lab.waitForEvent('A', 'failover.held', { since: kill, timeoutMs: 30_000 });
    ctx.mark('held on A');
  } catch {
    ctx.log?.(`${name}: A never logged failover.held; repairing anyway`);
  }
  await sleep(5_000); // held: the VIP must stay on A meanwhile
  await ctx.snap('held');
  const t = ctx.mark(`repair ${repaired}`);
  ctx.lab.setTomcatStartFails(repaired, false);
  return t;
}

/** Held (the peer guard): from the kill to the repair, A keeps the VIP (B is broken too). */
function heldOnA(r: Played, wrong: string[]): void {
  const kill = markAt(r, 'kill');
  const held = new Set(r.vip.filter((s) => s.t >= kill && s.t < r.fault).map((s) => s.holder));
  if ([...held].some((h) => h !== 'A')) wrong.push(`the VIP left A before the repair (${vipPathText(r.vip, kill, r.fault)})`);
}

/** The realistic scenarios, in the order the bench plays them. */
export const REALISTIC: readonly RealisticId[] = ['slow-crash', 'slow-hang', 'hang-start-fails', 'http-500', 'health-flap', 'slow-repair', 'fast-crash', 'switchover'];

/** THE table: every scenario, by name. */
export const SCENARIOS: Record<ScenarioName, ScenarioSpec> = {
  // --- classic: issue 3's acceptance scenarios (the default lab) ------------------------
  'kill-restart-works': {
    name: 'kill-restart-works',
    id: '1',
    title: 'tomcat killed on A, restart works',
    fault: 'SIGKILL to tomcat on A',
    expect: 'A',
    right: 'the VIP never leaves A, the client never sees B, A serves again',
    windowMs: 15_000,
    inject: (ctx) => killTomcatA(ctx),
    judge: stayedOnA,
  },
  'kill-restart-fails': {
    name: 'kill-restart-fails',
    id: '2',
    title: 'tomcat killed on A, restart fails',
    fault: "A's tomcat start made to fail, then SIGKILL to tomcat on A",
    expect: 'B',
    right: 'the VIP moves to B and the client ends on B',
    windowMs: 15_000,
    inject: (ctx) => killWithStartFailing(ctx, 'KILL'),
  },
  'hang-restart-works': {
    name: 'hang-restart-works',
    id: '3',
    title: 'tomcat hung on A (SIGSTOP), restart works',
    fault: 'SIGSTOP to tomcat on A (the port still accepts, nothing answers)',
    expect: 'A',
    right: 'the hung JVM is replaced, the VIP never leaves A, A serves again',
    windowMs: 15_000,
    inject: (ctx) => {
      ctx.facts.hungPid = ctx.facts.tomcatBefore[0];
      return killTomcatA(ctx, 'STOP');
    },
    judge: (r, wrong) => {
      stayedOnA(r, wrong);
      if (!r.facts.hungPidGone) wrong.push('the hung tomcat is still there');
    },
  },
  'hang-restart-fails': {
    name: 'hang-restart-fails',
    id: '3b',
    title: 'tomcat hung on A, restart fails',
    fault: "A's tomcat start made to fail, then SIGSTOP to tomcat on A",
    expect: 'B',
    right: 'the VIP moves to B and the client ends on B',
    windowMs: 15_000,
    inject: (ctx) => {
      ctx.facts.hungPid = ctx.facts.tomcatBefore[0];
      return killWithStartFailing(ctx, 'STOP');
    },
  },
  'keepalived-killed': {
    name: 'keepalived-killed',
    id: '4',
    title: 'keepalived killed on A (SIGKILL), tomcat fine',
    fault: 'SIGKILL to every keepalived process on A (the VIP stays on its eth0; B takes it too)',
    expect: 'A',
    right: 'keepalived runs again on A, A holds the VIP alone, the client ends on A',
    windowMs: 15_000,
    inject: killKeepalivedA,
  },
  'decoy-restart-fails': {
    name: 'decoy-restart-fails',
    id: '5',
    title: 'tomcat dead on A with a `tail -f catalina.out` decoy, restart fails',
    fault: "`tail -f .../catalina.out` started on A, A's tomcat start made to fail, SIGKILL to tomcat on A",
    expect: 'B',
    right: 'the decoy is not taken for tomcat: the VIP moves to B, the client ends on B',
    windowMs: 15_000,
    inject: async (ctx) => {
      ctx.facts.decoyPid = await ctx.lab.startTailDecoy('A');
      return killWithStartFailing(ctx, 'KILL');
    },
    judge: (r, wrong) => {
      if (r.facts.decoyAlive === false) wrong.push('the decoy was killed');
    },
  },
  'repair-after-failover': {
    name: 'repair-after-failover',
    id: '6',
    title: 'repair after failover',
    fault: "scenario 2, then (client on B for 2 s) A's tomcat start works again",
    expect: 'A',
    right: 'the VIP returns to A and no client request fails because of the return',
    windowMs: 25_000,
    fromRepair: true,
    inject: (ctx) => failThenRepair(ctx, 'repair-after-failover'),
    judge: noErrorAfterRepair,
  },
  'nginx-killed': {
    name: 'nginx-killed',
    id: '7',
    title: 'nginx killed on A',
    fault: 'SIGKILL to every nginx process on A',
    expect: 'A',
    right: 'nginx is restarted, the VIP never leaves A, A serves again',
    windowMs: 15_000,
    inject: async ({ lab, mark }) => {
      const t = mark('fault');
      await lab.killNginx('A', 'KILL');
      return t;
    },
    judge: stayedOnA,
  },
  'both-dead': {
    name: 'both-dead',
    id: '8',
    title: 'tomcat dead on both hosts, both restarts failing',
    fault: 'tomcat start made to fail on A and B, then SIGKILL to tomcat on A and B',
    expect: 'none',
    right: 'nothing flaps (the VIP changes hands at most twice) and nobody can serve',
    windowMs: 40_000,
    inject: (ctx) => killBoth(ctx, 'fault'),
    judge: (r, wrong) => {
      // Flapping is a host taking the VIP more than once after the fault. "none" between
      // two holders is the VRRP handover itself (A stopped, B not master yet), not a move.
      const vipPath = windowVipPath(r);
      const holders = vipPath.split(' → ').filter((h) => h !== 'none');
      const takes = holders.filter((h, i) => i > 0 && h !== holders[i - 1]).length;
      if (takes > 1) wrong.push(`the VIP flapped (${vipPath})`);
    },
  },

  // --- classic, on configured labs: the peer guard, handover-first, track-file ----------
  'guard-repair-backup': {
    name: 'guard-repair-backup',
    id: '9',
    title: 'peer guard: tomcat dead on both hosts, then the host without the VIP repaired',
    fault:
      "peer guard on; tomcat start made to fail on A and B, SIGKILL to tomcat on A and B; once A logged failover.held (and 5 s more), B's tomcat start works again",
    expect: 'B',
    right: 'A keeps the VIP while B is broken too (failover.held), then gives it to B once B is healthy',
    windowMs: 30_000,
    // The guard's hold after failed restarts, as designed: restart-first. With auto, the
    // VIP holder may hand over first if the other tomcat dies a moment after it was asked
    // (an honest race; only the holder ever lets go: test/policy/order.test.ts).
    lab: { guard: true, order: 'restart-first' },
    fromRepair: true,
    inject: (ctx) => heldThenRepair(ctx, 'guard-repair-backup', 'B'),
    judge: heldOnA,
  },
  'guard-repair-holder': {
    name: 'guard-repair-holder',
    id: '9b',
    title: 'peer guard: tomcat dead on both hosts, then the VIP holder repaired',
    fault:
      "peer guard on; tomcat start made to fail on A and B, SIGKILL to tomcat on A and B; once A logged failover.held (and 5 s more), A's tomcat start works again",
    expect: 'A',
    right: 'A keeps the VIP throughout (failover.held), heals and serves again',
    windowMs: 25_000,
    lab: { guard: true, order: 'restart-first' }, // as guard-repair-backup
    fromRepair: true,
    inject: (ctx) => heldThenRepair(ctx, 'guard-repair-holder', 'A'),
    judge: (r, wrong) => {
      heldOnA(r, wrong);
      if ([...holdersInWindow(r)].some((h) => h !== 'A')) wrong.push(`the VIP left A (${windowVipPath(r)})`);
    },
  },
  'handover-peer-healthy': {
    name: 'handover-peer-healthy',
    id: '10',
    title: 'handover-first, peer healthy: tomcat killed on A, restart works',
    fault: 'failover.order handover-first and the peer guard on; SIGKILL to tomcat on A',
    expect: 'A',
    right: 'A gives the VIP to B at once, restarts tomcat, takes the VIP back; the return costs no request',
    windowMs: 25_000,
    lab: { order: 'handover-first', guard: true },
    inject: (ctx) => killTomcatA(ctx),
    judge: (r, wrong) => {
      if (!holdersInWindow(r).has('B')) wrong.push(`the VIP never went to B (${windowVipPath(r)})`);
    },
  },
  'handover-peer-unhealthy': {
    name: 'handover-peer-unhealthy',
    id: '11',
    title: 'handover-first, peer unhealthy: tomcat killed on A, restart works',
    fault:
      "failover.order handover-first and the peer guard on; B's tomcat start made to fail and B's tomcat SIGKILLed (until B gave up on it), then SIGKILL to tomcat on A",
    expect: 'A',
    right: 'A does not hand the VIP to a broken B: it restarts tomcat in place (restart-first), the VIP never leaves A',
    windowMs: 15_000,
    lab: { order: 'handover-first', guard: true },
    inject: async (ctx) => {
      const { lab, mark, log } = ctx;
      lab.setTomcatStartFails('B', true);
      const broken = mark('B broken');
      await lab.killTomcat('B', 'KILL');
      try {
        await lab.waitForEvent('B', 'service.failed', { service: 'tomcat', since: broken, timeoutMs: 30_000 });
        mark('B gave up');
      } catch {
        log?.('handover-peer-unhealthy: B never logged service.failed for tomcat; killing A anyway');
      }
      await sleep(2_000);
      await ctx.snap('B broken');
      ctx.ctlFromNow();
      return killTomcatA(ctx);
    },
    judge: stayedOnA,
  },
  'track-file-repair': {
    name: 'track-file-repair',
    id: '12',
    title: 'track-file control: tomcat killed on A, restart fails, then A repaired',
    fault:
      "keepalived.control track-file; A's tomcat start made to fail, SIGKILL to tomcat on A; (client on B for 2 s) A's tomcat start works again",
    expect: 'A',
    right: 'A writes 1 (keepalived keeps running, the VIP moves to B), then 0 once healed (the VIP comes back to A)',
    windowMs: 25_000,
    lab: { control: 'track-file' },
    fromRepair: true,
    inject: (ctx) => failThenRepair(ctx, 'track-file-repair', { snapOnB: true }),
    judge: (r, wrong) => {
      const kill = markAt(r, 'kill');
      if (!r.vip.some((s) => s.t >= kill && s.holder === 'B')) wrong.push('the VIP never went to B');
      const kp = r.facts.snapshots ?? [];
      const pids = new Set(kp.map((x) => x.keepalived.A.join(',')));
      if (pids.size !== 1 || pids.has('')) wrong.push(`keepalived on A did not keep running (${kp.map((x) => `${x.label}: [${x.keepalived.A.join(',')}]`).join(', ')})`);
    },
  },
  'track-file-keepalived-killed': {
    name: 'track-file-keepalived-killed',
    id: '13',
    title: 'track-file control: keepalived killed on A (SIGKILL), tomcat fine',
    fault: 'keepalived.control track-file; SIGKILL to every keepalived process on A',
    expect: 'A',
    right: 'keepalived runs again on A, A holds the VIP alone, the client ends on A',
    windowMs: 15_000,
    lab: { control: 'track-file' },
    inject: killKeepalivedA,
  },

  // --- realistic: the lab webapp deploys for 20 s; tomcat checked on /health ----------
  'slow-crash': {
    id: 'slow-crash',
    name: 'slow-crash',
    title: 'slow crash: tomcat killed on A, restart works, 20 s deployment',
    fault: 'SIGKILL to tomcat on A (its restart takes the 20 s deployment)',
    expect: 'A',
    right: 'A heals (tomcat restarted and answering), the VIP and the client end on A, no flapping (at most A → B → A)',
    windowMs: 40_000,
    lab: SLOW,
    inject: (ctx) => killTomcatA(ctx),
    judge: healedNoFlapping,
  },
  'slow-hang': {
    id: 'slow-hang',
    name: 'slow-hang',
    title: 'slow hang: tomcat hung on A (SIGSTOP), restart works, 20 s deployment',
    fault: 'SIGSTOP to tomcat on A (the port still accepts, nothing answers; a restart takes the 20 s deployment)',
    expect: 'A',
    right: 'the hung JVM is replaced and A heals, the VIP and the client end on A, no flapping',
    windowMs: 45_000,
    lab: SLOW,
    inject: (ctx) => {
      ctx.facts.hungPid = ctx.facts.tomcatBefore[0];
      return killTomcatA(ctx, 'STOP');
    },
    judge: (r, wrong) => {
      if (!r.facts.hungPidGone) wrong.push('the hung tomcat is still there');
      healedOnA(r, wrong);
      noFlapping(r, wrong);
    },
  },
  'hang-start-fails': {
    id: 'hang-start-fails',
    name: 'hang-start-fails',
    title: 'hang whose restart fails: tomcat hung on A, its start failing, fast app',
    fault: "deployment 0 s; A's tomcat start made to fail, then SIGSTOP to tomcat on A",
    expect: 'B',
    right: 'the VIP moves to B and the client ends on B, no flapping',
    windowMs: 20_000,
    lab: FAST,
    inject: (ctx) => killWithStartFailing(ctx, 'STOP'),
    judge: noFlapping,
  },
  'http-500': {
    id: 'http-500',
    name: 'http-500',
    title: 'HTTP 500 while the process lives (a restart heals it), 20 s deployment',
    fault: "A's tomcat answers every request with HTTP 500 (the application and /health) until it is restarted",
    expect: 'A',
    right: 'A heals (a restarted tomcat answers 200), the VIP and the client end on A, no flapping',
    windowMs: 45_000,
    lab: SLOW,
    inject: async ({ lab, mark }) => {
      const t = mark('fault');
      await lab.tomcatFault('A', '500');
      return t;
    },
    judge: healedNoFlapping,
  },
  'health-flap': {
    id: 'health-flap',
    name: 'health-flap',
    title: 'flapping health endpoint: /health on A alternates 500/200, the application is fine',
    fault: "A's /health alternates 500 and 200 per request; what clients get (the page through nginx) is unaffected",
    expect: 'A',
    right: 'nothing moves: the VIP never leaves A, no tomcat is restarted on either host, no client request fails',
    windowMs: 25_000,
    lab: SLOW,
    inject: async ({ lab, mark }) => {
      const t = mark('fault');
      await lab.tomcatFault('A', 'flap');
      return t;
    },
    judge: (r, wrong) => {
      const path = vipHolderPath(r);
      if (path.some((h) => h !== 'A')) wrong.push(`the VIP left A (${path.join(' → ')})`);
      const same = (a: number[], b: number[]) => a.join(',') === b.join(',');
      if (!same(r.facts.tomcatBefore, r.facts.tomcatAfter)) wrong.push(`tomcat restarted on A (${r.facts.tomcatBefore} → ${r.facts.tomcatAfter})`);
      if (r.facts.tomcatB && !same(r.facts.tomcatB.before, r.facts.tomcatB.after)) wrong.push(`tomcat restarted on B (${r.facts.tomcatB.before} → ${r.facts.tomcatB.after})`);
      const errs = errorCount(r.samples, r.fault, r.end);
      if (errs > 0) wrong.push(`client requests failed (${errs})`);
    },
  },
  'fast-crash': {
    id: 'fast-crash',
    name: 'fast-crash',
    title: 'fast crash, start time known: tomcat killed on A, restart works, fast app',
    fault: 'deployment 0 s; a first SIGKILL to tomcat on A teaches its start time (A heals, the client back on A), then the measured SIGKILL',
    expect: 'A',
    right: 'A heals, the VIP and the client end on A, no flapping',
    windowMs: 15_000,
    lab: FAST,
    labGroup: 'fast-crash',
    inject: async (ctx) => {
      const { lab, log } = ctx;
      // Not a mark: the measured span (VIP moves included) starts at the second kill.
      log?.('fast-crash: the teaching kill');
      const taught = Date.now();
      await lab.killTomcat('A', 'KILL');
      try {
        // Only requests sent after the kill: the last 40 before it (all A) once let the
        // measured kill land while the taught restart was still starting.
        await lab.client.waitForWho('A', 25_000, 40, taught + 1000);
      } catch {
        log?.('fast-crash: the client did not settle on A after the teaching kill; going on');
      }
      await sleep(2_000);
      return killTomcatA(ctx);
    },
    judge: healedNoFlapping,
  },
  switchover: {
    id: 'switchover',
    name: 'switchover',
    title: 'planned switchover to B and back (maintenance on A)',
    fault:
      "ha-watchdog: `ha-watchdog switchover` on A, (client on B for 3 s) `ha-watchdog takeback`; keepalived's own answer and the seed loop, the keepalived way: keepalived stopped on A, (client on B for 3 s) started again",
    expect: 'A',
    right: 'the client is served by B during the maintenance and by A at the end, at most 2 VIP moves',
    windowMs: 12_000,
    lab: FAST,
    inject: async ({ lab, mark, log, facts }) => {
      const agent = (...args: string[]) => lab.exec('A', [process.execPath, lab.agentCli, ...args, '-c', lab.hosts.A.watchdogConfig]);
      const t = mark('switchover');
      if (lab.agent === 'watchdog') {
        const r = await agent('switchover', '--reason', 'bench');
        if (r.code !== 0) log?.(`switchover: exit ${r.code}: ${r.stdout}${r.stderr}`);
      } else {
        await lab.ctl('A', 'keepalived', 'stop');
      }
      try {
        await lab.client.waitForWho('B', 15_000, 5);
        facts.servedByB = true;
      } catch {
        log?.('switchover: the client never settled on B');
      }
      await sleep(3_000);
      mark('takeback');
      if (lab.agent === 'watchdog') {
        const r = await agent('takeback');
        if (r.code !== 0) log?.(`takeback: exit ${r.code}: ${r.stdout}${r.stderr}`);
      } else {
        await lab.ctl('A', 'keepalived', 'start');
      }
      return t;
    },
    judge: (r, wrong) => {
      if (!r.facts.servedByB) wrong.push('the client was never served by B during the maintenance');
      noFlapping(r, wrong);
    },
  },
  'slow-repair': {
    id: 'slow-repair',
    name: 'slow-repair',
    title: 'repair after failover, 20 s deployment',
    fault: "A's tomcat start made to fail, SIGKILL to tomcat on A; (client on B for 2 s) A's tomcat start works again",
    expect: 'A',
    right: 'the VIP returns to A (healed) and no client request fails from the repair on',
    windowMs: 45_000,
    lab: SLOW,
    fromRepair: true,
    inject: (ctx) => failThenRepair(ctx, 'slow-repair'),
    judge: (r, wrong) => {
      healedOnA(r, wrong);
      noErrorAfterRepair(r, wrong);
    },
  },
};

/** The table by short id (the aliases). */
const BY_ID = new Map<string, ScenarioSpec>(Object.values(SCENARIOS).map((s) => [s.id, s]));

/** The scenario of a name, or of an id as its alias ('2' is kill-restart-fails); throws on an unknown key. */
export function scenario(key: string): ScenarioSpec {
  const s = Object.hasOwn(SCENARIOS, key) ? SCENARIOS[key as ScenarioName] : BY_ID.get(key);
  if (!s) throw new Error(`unknown scenario ${key} (${Object.values(SCENARIOS).map(scenarioLabel).join(', ')})`);
  return s;
}

/** Whether key names a scenario (or is an id's alias). */
export function isScenarioKey(key: string): key is ScenarioKey {
  return Object.hasOwn(SCENARIOS, key) || BY_ID.has(key);
}

/** "kill-restart-fails (2)"; a realistic one (its id is its name): "slow-crash". */
export function scenarioLabel(s: Pick<ScenarioSpec, 'name' | 'id'>): string {
  return s.id === s.name ? s.name : `${s.name} (${s.id})`;
}


export interface Mark {
  label: string;
  /** Epoch ms. */
  t: number;
}

export interface PlayMetrics {
  /** Fault (fromRepair: the repair) to the client's final uninterrupted run on the expected host, ms; undefined: never settled there. */
  settledMs?: number;
  /** Failed client requests from the fault (fromRepair: the repair) to the end of the window. */
  errors: number;
  /** Time the client spent failing over the same span, ms (sum of its outages). */
  errorMs: number;
  right: boolean;
  /** Why not right (empty when right). */
  wrong: string[];
  /** What the client saw from the fault on, e.g. "A×20 → error×61 → B×296". */
  path: string;
  /** VIP holders (from the hosts' interfaces) from the fault on, e.g. "A → none → B". */
  vipPath: string;
}

export interface PlayResult {
  /** The scenario's short id (spec.name is its name). */
  id: ScenarioId;
  spec: ScenarioSpec;
  agent: AgentKind;
  labId: string;
  /** The lab's generated configuration (profile, deployment time, ...) as it was built. */
  labConfig?: LabConfig;
  /** When observation started (client and VIP sampler), epoch ms. */
  start: number;
  /** The measured fault: the kill, or (fromRepair) the repair. */
  fault: number;
  end: number;
  marks: Mark[];
  samples: Sample[];
  vip: VipSample[];
  events: Record<HostName, AgentEvent[]>;
  facts: {
    /** hang-restart-works/-fails, slow-hang: the JVM that was SIGSTOPped (pid inside A). */
    hungPid?: number;
    hungPidGone?: boolean;
    /** decoy-restart-fails: the decoy's pid inside A, and whether it still runs at the end. */
    decoyPid?: number;
    decoyAlive?: boolean;
    /** Tomcat JVM pids on A before the fault and at the end. */
    tomcatBefore: number[];
    tomcatAfter: number[];
    /** The same on B. */
    tomcatB?: { before: number[]; after: number[] };
    /** At the end: A's tomcat is one running JVM answering 200 on / and /health (lab/reset.ts tomcatProblem). */
    healedA?: boolean;
    /** Why not ('' when healed). */
    healthA?: string;
    /** Configured labs (the entry has `lab`): keepalived pids, track file, /healthz of both hosts at some marks. */
    snapshots?: Snapshot[];
    /** track-file labs: every change of the hosts' track files, polled every 100 ms. */
    track?: TrackSample[];
    /** switchover: the client was served by B (5 answers in a row) during the maintenance. */
    servedByB?: boolean;
    /** A's lib/host/ctl.sh log lines written after the (first) fault: every control action A took. */
    ctlA?: string[];
  };
  metrics: PlayMetrics;
}

export interface Snapshot {
  label: string;
  /** Epoch ms. */
  t: number;
  keepalived: Record<HostName, number[]>;
  /** Content of the track file ('' when missing); only with track-file control. */
  track?: Record<HostName, string>;
  /** healthz.healthy as seen from C (undefined: no answer); only with the peer guard. */
  healthy?: Record<HostName, boolean | undefined>;
}

export interface TrackSample {
  t: number;
  A: string;
  B: string;
}

export interface PlayOptions {
  /** Override the scenario's observation window, ms. */
  windowMs?: number;
  /**
   * Only agent events from this time on (epoch ms) go into the result (default: all),
   * e.g. the end of the last resetLab() when the lab has played before.
   */
  eventsSince?: number;
  /** Called for each mark as it happens (fault, repair, ...). */
  onMark?: (m: Mark) => void;
  /** Progress messages. */
  log?: (msg: string) => void;
  /**
   * The fault goes in this many ms after a whole wall-clock second (default: a random
   * phase). The agent polls on whole seconds (node-cron); the steady state is reached at
   * a poll, so a fault a fixed time after it would always land at the same point of the
   * agent's cycle (it did: about 0.1 s after a tick, the agent's worst case).
   */
  faultPhaseMs?: number;
}

const TOMCAT_RE = 'org\\.apache\\.catalina\\.startup\\.Bootstrap';

async function tomcatPids(lab: Lab, h: HostName): Promise<number[]> {
  return (await lab.hosts[h].pgrep(TOMCAT_RE)).sort((a, b) => a - b);
}

/** Whether pid (inside host h) is alive and not a zombie. */
async function aliveIn(lab: Lab, h: HostName, pid: number): Promise<boolean> {
  const r = await lab.exec(h, ['ps', '-o', 'stat=', '-p', String(pid)]);
  const st = r.stdout.trim();
  return r.code === 0 && st !== '' && !st.startsWith('Z');
}

/**
 * Waits until the supervisors are in their steady state and A serves: for the
 * watchdog, both agents logged service.up for tomcat and nginx (and, with the
 * peer guard, both /healthz say healthy: bounded, a missing /healthz only logs).
 */
export async function waitSteady(lab: Lab, timeoutMs = 30_000, log?: (msg: string) => void): Promise<void> {
  if (lab.agent === 'watchdog') {
    for (const h of ['A', 'B'] as const) {
      for (const service of ['tomcat', 'nginx']) await lab.waitForEvent(h, 'service.up', { service, timeoutMs });
    }
    if (lab.config.guard) {
      try {
        await lab.waitFor(async () => (await lab.healthz('A'))?.healthy === true && (await lab.healthz('B'))?.healthy === true, 15_000, {
          what: 'both /healthz healthy',
          intervalMs: 250,
        });
      } catch (e) {
        log?.(`steady state: ${(e as Error).message}; playing anyway`);
      }
    }
  }
  await lab.client.waitForWho('A', timeoutMs, 5);
}

async function snapshot(lab: Lab, label: string): Promise<Snapshot> {
  const t = Date.now();
  // keepalived's processes (parent + VRRP child) by process name, inside the host.
  const kp = async (h: HostName): Promise<number[]> => {
    const r = await lab.exec(h, ['pgrep', '-x', 'keepalived']).catch(() => undefined);
    return (r?.stdout ?? '').split('\n').filter(Boolean).map(Number).sort((a, b) => a - b);
  };
  const s: Snapshot = { label, t, keepalived: { A: await kp('A'), B: await kp('B') } };
  if (lab.config.control === 'track-file') s.track = { A: lab.hosts.A.readTrackFile(), B: lab.hosts.B.readTrackFile() };
  if (lab.config.guard) {
    const hz = async (h: HostName) => (await lab.healthz(h).catch(() => undefined))?.healthy;
    s.healthy = { A: await hz('A'), B: await hz('B') };
  }
  return s;
}

/** Records every change of both hosts' track files (plain file reads every 100 ms, bounded). */
class TrackSampler {
  readonly samples: TrackSample[] = [];
  private timer?: NodeJS.Timeout;
  private readonly until = Date.now() + 600_000;
  constructor(private readonly lab: Lab) {}
  start(): this {
    const tick = (): void => {
      const A = this.lab.hosts.A.readTrackFile();
      const B = this.lab.hosts.B.readTrackFile();
      const last = this.samples[this.samples.length - 1];
      if (!last || last.A !== A || last.B !== B) this.samples.push({ t: Date.now(), A, B });
      if (Date.now() > this.until) this.stop();
    };
    tick();
    this.timer = setInterval(tick, 100);
    return this;
  }
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}

function eventsFrom(lab: Lab, h: HostName, since = 0): AgentEvent[] {
  return lab.agentEvents(h).filter((e) => since === 0 || (e.t ?? 0) >= since);
}

/** Lines of A's ctl.log from line `from` on. */
function ctlLines(lab: Lab, from = 0): string[] {
  return lab.hosts.A.readLog('ctl.log').split('\n').filter(Boolean).slice(from);
}

/**
 * Plays one scenario on a lab that is up (any agent) and not yet faulted:
 * starts the client and the VIP sampler, waits for the steady state, injects
 * the fault, observes for the scenario's window, and measures. Every wait is
 * bounded. The lab is left up (the caller tears it down).
 */
export async function play(lab: Lab, key: ScenarioKey, opts: PlayOptions = {}): Promise<PlayResult> {
  const spec = scenario(key);
  const windowMs = opts.windowMs ?? spec.windowMs;
  const marks: Mark[] = [];
  const mark = (label: string): number => {
    const m = { label, t: Date.now() };
    marks.push(m);
    opts.onMark?.(m);
    return m.t;
  };
  const sampler = new VipSampler(() => lab.vipHolder(), 200).start();
  const configured = spec.lab !== undefined;
  const trackSampler = lab.config.control === 'track-file' ? new TrackSampler(lab).start() : undefined;
  const facts: PlayResult['facts'] = { tomcatBefore: [], tomcatAfter: [] };
  const snap = async (label: string): Promise<void> => {
    if (configured) (facts.snapshots ??= []).push(await snapshot(lab, label));
  };
  let ctlFrom = 0;
  const ctlFromNow = (): void => {
    ctlFrom = ctlLines(lab).length;
  };
  let start = Date.now();
  let fault = start;
  try {
    if (!lab.client.running) await lab.client.start();
    start = Date.now();
    await waitSteady(lab, 30_000, opts.log);
    await sleep(1_000); // a second of the steady state in the timeline
    facts.tomcatBefore = await tomcatPids(lab, 'A');
    facts.tomcatB = { before: await tomcatPids(lab, 'B'), after: [] };
    await snap('steady');
    ctlFromNow();
    const phase = opts.faultPhaseMs ?? Math.floor(Math.random() * 1000);
    await sleep((phase - (Date.now() % 1000) + 1000) % 1000);
    fault = await spec.inject({ lab, mark, facts, snap, ctlFromNow, log: opts.log });
    await sleep(Math.max(0, fault + windowMs - Date.now()));
  } finally {
    await sampler.stop();
    trackSampler?.stop();
  }
  const end = mark('end');
  await lab.client.stop();
  if (configured) {
    await snap('end');
    facts.ctlA = ctlLines(lab, ctlFrom);
  }
  if (trackSampler) facts.track = trackSampler.samples;
  facts.tomcatAfter = await tomcatPids(lab, 'A').catch(() => []);
  if (facts.tomcatB) facts.tomcatB.after = await tomcatPids(lab, 'B').catch(() => []);
  facts.healthA = await tomcatProblem(lab.hosts.A).catch((e: unknown) => `not checked: ${(e as Error).message}`);
  facts.healedA = facts.healthA === '';
  if (facts.hungPid !== undefined) facts.hungPidGone = !(await aliveIn(lab, 'A', facts.hungPid));
  if (facts.decoyPid !== undefined) facts.decoyAlive = await aliveIn(lab, 'A', facts.decoyPid);

  const r: PlayResult = {
    id: spec.id,
    spec,
    agent: lab.agent,
    labId: lab.id,
    labConfig: lab.config,
    start,
    fault,
    end,
    marks,
    samples: lab.client.timeline(),
    vip: sampler.samples,
    events: { A: eventsFrom(lab, 'A', opts.eventsSince), B: eventsFrom(lab, 'B', opts.eventsSince) },
    facts,
    metrics: { errors: 0, errorMs: 0, right: false, wrong: [], path: '', vipPath: '' },
  };
  r.metrics = measure(r);
  return r;
}

function vipPathText(vip: VipSample[], from: number, to: number): string {
  const out: VipHolder[] = [];
  for (const s of vip) if (s.t >= from && s.t <= to && out[out.length - 1] !== s.holder) out.push(s.holder);
  return out.join(' → ') || '(no samples)';
}

/** The scenario's verdict: the expected host at the end (client and VIP), then the entry's own `judge`. */
export function measure(r: Omit<PlayResult, 'metrics'>): PlayMetrics {
  const { samples, fault, end, spec } = r;
  const vipLast = r.vip.filter((s) => s.t >= fault && s.t <= end).pop()?.holder;
  const wrong: string[] = [];
  const expect = spec.expect;
  let settled: number | undefined;
  if (expect !== 'none') {
    settled = settledAt(samples, expect, fault, end);
    if (!endsOn(samples, expect, 10, fault, end)) wrong.push(`the client does not end on ${expect}`);
    if (vipLast !== expect) wrong.push(`the VIP ends on ${vipLast ?? '?'}, not ${expect}`);
  }
  spec.judge?.(r, wrong);
  return {
    settledMs: settled === undefined ? undefined : Math.max(0, settled - fault),
    errors: errorCount(samples, fault, end),
    errorMs: errorMs(samples, fault, end),
    right: wrong.length === 0,
    wrong,
    path: pathText(samples, fault, end),
    vipPath: vipPathText(r.vip, fault, end),
  };
}

// --- reporting ---------------------------------------------------------------

function rel(t: number | undefined, t0: number): string {
  return t === undefined ? '    ?' : `${((t - t0) / 1000).toFixed(2).padStart(6)}s`;
}

/** One line per agent event: "  +2.02s A service.down tomcat: http: ...". */
export function eventLines(r: Pick<PlayResult, 'events' | 'fault'>, opts: { skip?: string[]; width?: number } = {}): string[] {
  const skip = new Set(opts.skip ?? []);
  const all = (['A', 'B'] as const).flatMap((h) => r.events[h].filter((e) => !skip.has(e.event)).map((e) => ({ h, e })));
  all.sort((x, y) => (x.e.t ?? 0) - (y.e.t ?? 0));
  const width = opts.width ?? 150;
  return all.map(({ h, e }) => {
    const text = [e.event, e.service, e.reason].filter(Boolean).join(' ');
    return `${rel(e.t, r.fault)} ${h} ${text.length > width ? `${text.slice(0, width - 1)}…` : text}`;
  });
}

/** A readable account of one play, for failure messages and logs. */
export function report(r: PlayResult): string {
  const m = r.metrics;
  const lines = [
    `scenario ${scenarioLabel(r.spec)} (${r.spec.title}) with ${r.agent}, lab ${r.labId}: ${m.right ? 'RIGHT' : `WRONG: ${m.wrong.join('; ')}`}`,
    `  settled on ${r.spec.expect}: ${m.settledMs === undefined ? 'never' : `${m.settledMs} ms`} after the ${r.spec.fromRepair ? 'repair' : 'fault'}; failed requests: ${m.errors} (${(m.errorMs / 1000).toFixed(2)} s of errors)`,
    `  client: ${m.path}`,
    `  VIP:    ${m.vipPath}`,
    `  marks:  ${r.marks.map((k) => `${k.label}@${rel(k.t, r.fault).trim()}`).join(', ')}`,
    ...(r.facts.hungPid !== undefined ? [`  hung pid ${r.facts.hungPid}: ${r.facts.hungPidGone ? 'gone' : 'still there'}`] : []),
    ...(r.facts.decoyPid !== undefined ? [`  decoy pid ${r.facts.decoyPid}: ${r.facts.decoyAlive ? 'alive' : 'gone'}`] : []),
    `  tomcat on A: before ${JSON.stringify(r.facts.tomcatBefore)}, after ${JSON.stringify(r.facts.tomcatAfter)}${r.facts.healedA === undefined ? '' : r.facts.healedA ? ', healthy at the end' : `, not healthy at the end (${r.facts.healthA})`}`,
    ...(r.facts.tomcatB ? [`  tomcat on B: before ${JSON.stringify(r.facts.tomcatB.before)}, after ${JSON.stringify(r.facts.tomcatB.after)}`] : []),
    ...(r.spec.lab ? [`  lab options: ${JSON.stringify(r.spec.lab)}`] : []),
    ...(r.labConfig && (r.labConfig.profile !== 'lab' || r.labConfig.deploySeconds > 0 || r.labConfig.tomcatHealth !== '/')
      ? [`  lab as built: profile ${r.labConfig.profile}, deployment ${r.labConfig.deploySeconds} s, tomcat checked on ${r.labConfig.tomcatHealth}`]
      : []),
    ...(r.facts.snapshots ?? []).map(
      (x) =>
        `  at ${x.label} (${rel(x.t, r.fault).trim()}): keepalived A ${JSON.stringify(x.keepalived.A)} B ${JSON.stringify(x.keepalived.B)}` +
        (x.track ? `, track A=${x.track.A || '-'} B=${x.track.B || '-'}` : '') +
        (x.healthy ? `, healthy A=${x.healthy.A} B=${x.healthy.B}` : ''),
    ),
    ...(r.facts.track ? [`  track files: ${r.facts.track.map((x) => `${rel(x.t, r.fault).trim()} A=${x.A || '-'} B=${x.B || '-'}`).join(', ')}`] : []),
    ...(r.facts.ctlA?.length ? ['  ctl.log on A after the fault:', ...r.facts.ctlA.map((l) => `    ${l}`)] : []),
  ];
  const ev = eventLines(r, { skip: ['action.done'] });
  if (ev.length) lines.push('  agent events (time from the fault):', ...ev.map((l) => `  ${l}`));
  return lines.join('\n');
}
