// The acceptance scenarios of issue 3, played the same way whatever supervises
// the hosts (ha-watchdog, the seed's bash loop, the vrrp_script peer, nothing):
// the same lab, the same fault at the same moment, the same observation window.
// Tests (test/lab/scenarios-*.test.ts) add their assertions on the agent's events;
// the bench (bench/lab.ts) compares supervisors; the demo shows 2 and 6 live.
//
//   const lab = await Lab.up({ agent: 'watchdog' });
//   try { const r = await play(lab, '2'); console.log(r.metrics); } finally { await lab.down(); }
import { setTimeout as sleep } from 'node:timers/promises';
import type { Sample } from './client.js';
import type { AgentEvent } from './events.js';
import type { HostName } from './host.js';
import type { AgentKind, Lab } from './lab.js';
import { between, endsOn, errorCount, pathText, settledAt } from './measure.js';
import { type VipHolder, type VipSample, VipSampler } from './vip.js';

export type ScenarioId = '1' | '2' | '3' | '3b' | '4' | '5' | '6' | '7' | '8';

export interface ScenarioSpec {
  id: ScenarioId;
  title: string;
  /** The fault, in words. */
  fault: string;
  /** Who should answer through the VIP at the end ('none': nobody can). */
  expect: HostName | 'none';
  /** What "right" means for this scenario. */
  right: string;
  /** Observation window after the fault (scenario 6: after the repair), ms. */
  windowMs: number;
}

export const SCENARIOS: Record<ScenarioId, ScenarioSpec> = {
  '1': {
    id: '1',
    title: 'tomcat killed on A, restart works',
    fault: 'SIGKILL to tomcat on A',
    expect: 'A',
    right: 'the VIP never leaves A, the client never sees B, A serves again',
    windowMs: 15_000,
  },
  '2': {
    id: '2',
    title: 'tomcat killed on A, restart fails',
    fault: "A's tomcat start made to fail, then SIGKILL to tomcat on A",
    expect: 'B',
    right: 'the VIP moves to B and the client ends on B',
    windowMs: 15_000,
  },
  '3': {
    id: '3',
    title: 'tomcat hung on A (SIGSTOP), restart works',
    fault: 'SIGSTOP to tomcat on A (the port still accepts, nothing answers)',
    expect: 'A',
    right: 'the hung JVM is replaced, the VIP never leaves A, A serves again',
    windowMs: 15_000,
  },
  '3b': {
    id: '3b',
    title: 'tomcat hung on A, restart fails',
    fault: "A's tomcat start made to fail, then SIGSTOP to tomcat on A",
    expect: 'B',
    right: 'the VIP moves to B and the client ends on B',
    windowMs: 15_000,
  },
  '4': {
    id: '4',
    title: 'keepalived killed on A (SIGKILL), tomcat fine',
    fault: 'SIGKILL to every keepalived process on A (the VIP stays on its eth0; B takes it too)',
    expect: 'A',
    right: 'keepalived runs again on A, A holds the VIP alone, the client ends on A',
    windowMs: 15_000,
  },
  '5': {
    id: '5',
    title: 'tomcat dead on A with a `tail -f catalina.out` decoy, restart fails',
    fault: "`tail -f .../catalina.out` started on A, A's tomcat start made to fail, SIGKILL to tomcat on A",
    expect: 'B',
    right: 'the decoy is not taken for tomcat: the VIP moves to B, the client ends on B',
    windowMs: 15_000,
  },
  '6': {
    id: '6',
    title: 'repair after failover',
    fault: "scenario 2, then (client on B for 2 s) A's tomcat start works again",
    expect: 'A',
    right: 'the VIP returns to A and no client request fails because of the return',
    windowMs: 25_000,
  },
  '7': {
    id: '7',
    title: 'nginx killed on A',
    fault: 'SIGKILL to every nginx process on A',
    expect: 'A',
    right: 'nginx is restarted, the VIP never leaves A, A serves again',
    windowMs: 15_000,
  },
  '8': {
    id: '8',
    title: 'tomcat dead on both hosts, both restarts failing',
    fault: 'tomcat start made to fail on A and B, then SIGKILL to tomcat on A and B',
    expect: 'none',
    right: 'nothing flaps (the VIP changes hands at most twice) and nobody can serve',
    windowMs: 40_000,
  },
};

export interface Mark {
  label: string;
  /** Epoch ms. */
  t: number;
}

export interface PlayMetrics {
  /** Fault (scenario 6: repair) to the client's final uninterrupted run on the expected host, ms; undefined: never settled there. */
  settledMs?: number;
  /** Failed client requests from the fault (scenario 6: the repair) to the end of the window. */
  errors: number;
  right: boolean;
  /** Why not right (empty when right). */
  wrong: string[];
  /** What the client saw from the fault on, e.g. "A×20 → error×61 → B×296". */
  path: string;
  /** VIP holders (from the hosts' interfaces) from the fault on, e.g. "A → none → B". */
  vipPath: string;
}

export interface PlayResult {
  id: ScenarioId;
  spec: ScenarioSpec;
  agent: AgentKind;
  labId: string;
  /** When observation started (client and VIP sampler), epoch ms. */
  start: number;
  /** The measured fault: the kill, or (scenario 6) the repair. */
  fault: number;
  end: number;
  marks: Mark[];
  samples: Sample[];
  vip: VipSample[];
  events: Record<HostName, AgentEvent[]>;
  facts: {
    /** Scenario 3/3b: the JVM that was SIGSTOPped (pid inside A). */
    hungPid?: number;
    hungPidGone?: boolean;
    /** Scenario 5: the decoy's pid inside A, and whether it still runs at the end. */
    decoyPid?: number;
    decoyAlive?: boolean;
    /** Tomcat JVM pids on A before the fault and at the end. */
    tomcatBefore: number[];
    tomcatAfter: number[];
  };
  metrics: PlayMetrics;
}

export interface PlayOptions {
  /** Override the scenario's observation window, ms. */
  windowMs?: number;
  /** Called for each mark as it happens (fault, repair, ...). */
  onMark?: (m: Mark) => void;
  /** Progress messages. */
  log?: (msg: string) => void;
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
 * watchdog, both agents logged service.up for tomcat and nginx.
 */
export async function waitSteady(lab: Lab, timeoutMs = 30_000): Promise<void> {
  if (lab.agent === 'watchdog') {
    for (const h of ['A', 'B'] as const) {
      for (const service of ['tomcat', 'nginx']) await lab.waitForEvent(h, 'service.up', { service, timeoutMs });
    }
  }
  await lab.client.waitForWho('A', timeoutMs, 5);
}

/**
 * Plays one scenario on a lab that is up (any agent) and not yet faulted:
 * starts the client and the VIP sampler, waits for the steady state, injects
 * the fault, observes for the scenario's window, and measures. Every wait is
 * bounded. The lab is left up (the caller tears it down).
 */
export async function play(lab: Lab, id: ScenarioId, opts: PlayOptions = {}): Promise<PlayResult> {
  const spec = SCENARIOS[id];
  const windowMs = opts.windowMs ?? spec.windowMs;
  const marks: Mark[] = [];
  const mark = (label: string): number => {
    const m = { label, t: Date.now() };
    marks.push(m);
    opts.onMark?.(m);
    return m.t;
  };
  const sampler = new VipSampler(() => lab.vipHolder(), 200).start();
  const facts: PlayResult['facts'] = { tomcatBefore: [], tomcatAfter: [] };
  let start = Date.now();
  let fault = start;
  try {
    if (!lab.client.running) await lab.client.start();
    start = Date.now();
    await waitSteady(lab);
    await sleep(1_000); // a second of the steady state in the timeline
    facts.tomcatBefore = await tomcatPids(lab, 'A');

    switch (id) {
      case '1':
        fault = mark('fault');
        await lab.killTomcat('A', 'KILL');
        break;
      case '2':
        lab.setTomcatStartFails('A', true);
        fault = mark('fault');
        await lab.killTomcat('A', 'KILL');
        break;
      case '3':
      case '3b':
        facts.hungPid = facts.tomcatBefore[0];
        if (id === '3b') lab.setTomcatStartFails('A', true);
        fault = mark('fault');
        await lab.killTomcat('A', 'STOP');
        break;
      case '4':
        fault = mark('fault');
        // Every keepalived process of A (parent and VRRP child), like `killall -9 keepalived`:
        // nothing removes the VIP from A's eth0. (SIGKILL to the parent alone makes the
        // child exit cleanly, as after a TERM.)
        await lab.hosts.A.ctlOk('keepalived', 'kill', 'KILL');
        break;
      case '5':
        facts.decoyPid = await lab.startTailDecoy('A');
        lab.setTomcatStartFails('A', true);
        fault = mark('fault');
        await lab.killTomcat('A', 'KILL');
        break;
      case '6': {
        lab.setTomcatStartFails('A', true);
        mark('kill');
        await lab.killTomcat('A', 'KILL');
        try {
          await lab.client.waitForWho('B', 25_000, 5);
          mark('client on B');
        } catch {
          opts.log?.('scenario 6: the client never settled on B; repairing anyway');
        }
        await sleep(2_000);
        fault = mark('repair');
        lab.setTomcatStartFails('A', false);
        break;
      }
      case '7':
        fault = mark('fault');
        await lab.killNginx('A', 'KILL');
        break;
      case '8':
        lab.setTomcatStartFails('A', true);
        lab.setTomcatStartFails('B', true);
        fault = mark('fault');
        await Promise.all([lab.killTomcat('A', 'KILL'), lab.killTomcat('B', 'KILL')]);
        break;
    }
    await sleep(Math.max(0, fault + windowMs - Date.now()));
  } finally {
    await sampler.stop();
  }
  const end = mark('end');
  await lab.client.stop();
  facts.tomcatAfter = await tomcatPids(lab, 'A').catch(() => []);
  if (facts.hungPid !== undefined) facts.hungPidGone = !(await aliveIn(lab, 'A', facts.hungPid));
  if (facts.decoyPid !== undefined) facts.decoyAlive = await aliveIn(lab, 'A', facts.decoyPid);

  const r: PlayResult = {
    id,
    spec,
    agent: lab.agent,
    labId: lab.id,
    start,
    fault,
    end,
    marks,
    samples: lab.client.timeline(),
    vip: sampler.samples,
    events: { A: lab.agentEvents('A'), B: lab.agentEvents('B') },
    facts,
    metrics: { errors: 0, right: false, wrong: [], path: '', vipPath: '' },
  };
  r.metrics = measure(r);
  return r;
}

function vipPathText(vip: VipSample[], from: number, to: number): string {
  const out: VipHolder[] = [];
  for (const s of vip) if (s.t >= from && s.t <= to && out[out.length - 1] !== s.holder) out.push(s.holder);
  return out.join(' → ') || '(no samples)';
}

/** The scenario's verdict from what the client saw and where the VIP was. */
export function measure(r: Omit<PlayResult, 'metrics'>): PlayMetrics {
  const { samples, fault, end, spec } = r;
  const win = between(samples, fault, end);
  const vipWin = r.vip.filter((s) => s.t >= fault && s.t <= end);
  const vipHolders = new Set(vipWin.map((s) => s.holder));
  const vipLast = vipWin[vipWin.length - 1]?.holder;
  const wrong: string[] = [];
  const expect = spec.expect;
  let settled: number | undefined;
  if (expect !== 'none') {
    settled = settledAt(samples, expect, fault, end);
    if (!endsOn(samples, expect, 10, fault, end)) wrong.push(`the client does not end on ${expect}`);
    if (vipLast !== expect) wrong.push(`the VIP ends on ${vipLast ?? '?'}, not ${expect}`);
  }
  const vipPath = vipPathText(r.vip, fault, end);
  switch (r.id) {
    case '1':
    case '3':
    case '7':
      if ([...vipHolders].some((h) => h !== 'A')) wrong.push(`the VIP left A (${vipPath})`);
      if (win.some((s) => s.who === 'B')) wrong.push('the client saw B');
      if (r.id === '3' && !r.facts.hungPidGone) wrong.push('the hung tomcat is still there');
      break;
    case '5':
      if (r.facts.decoyAlive === false) wrong.push('the decoy was killed');
      break;
    case '6': {
      const errs = errorCount(samples, fault, end);
      if (errs > 0) wrong.push(`client requests failed after the repair (${errs})`);
      break;
    }
    case '8': {
      const changes = Math.max(0, vipPath.split(' → ').length - 1);
      if (changes > 2) wrong.push(`the VIP flapped (${vipPath})`);
      break;
    }
  }
  return {
    settledMs: settled === undefined ? undefined : Math.max(0, settled - fault),
    errors: errorCount(samples, fault, end),
    right: wrong.length === 0,
    wrong,
    path: pathText(samples, fault, end),
    vipPath,
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
    `scenario ${r.id} (${r.spec.title}) with ${r.agent}, lab ${r.labId}: ${m.right ? 'RIGHT' : `WRONG: ${m.wrong.join('; ')}`}`,
    `  settled on ${r.spec.expect}: ${m.settledMs === undefined ? 'never' : `${m.settledMs} ms`} after the ${r.id === '6' ? 'repair' : 'fault'}; failed requests: ${m.errors}`,
    `  client: ${m.path}`,
    `  VIP:    ${m.vipPath}`,
    `  marks:  ${r.marks.map((k) => `${k.label}@${rel(k.t, r.fault).trim()}`).join(', ')}`,
    ...(r.facts.hungPid !== undefined ? [`  hung pid ${r.facts.hungPid}: ${r.facts.hungPidGone ? 'gone' : 'still there'}`] : []),
    ...(r.facts.decoyPid !== undefined ? [`  decoy pid ${r.facts.decoyPid}: ${r.facts.decoyAlive ? 'alive' : 'gone'}`] : []),
    `  tomcat on A: before ${JSON.stringify(r.facts.tomcatBefore)}, after ${JSON.stringify(r.facts.tomcatAfter)}`,
  ];
  const ev = eventLines(r, { skip: ['action.done'] });
  if (ev.length) lines.push('  agent events (time from the fault):', ...ev.map((l) => `  ${l}`));
  return lines.join('\n');
}
