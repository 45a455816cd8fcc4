// Puts a lab that has played a scenario back into its steady state, so that the next
// scenario can be played on the same lab instead of a fresh one (bench/lab.ts's
// realistic suite, test/lab/realistic.test.ts): a lab with a 20 s deployment takes
// ~30 s to bring up, a reset of a lab whose tomcats are fine a few seconds.
//
// The reset is real: every fault switch is cleared, every service that is not
// healthy is restarted (tomcat: hung, dead, answering 500, more than one JVM),
// keepalived runs on both hosts with A master and B backup, and the supervisor
// starts afresh:
//  - watchdog: both agents are stopped during the reset and started again after it;
//    their state.json is rewritten to a fresh memory that keeps only what the agent
//    learned (LEARNED_*: a service's start time, the handover's cost; and the pids it
//    saw last, KEPT_SERVICE_KEYS), so no restart
//    budget, backoff, failover or episode of the last run carries over; then it waits
//    until both agents logged service.up for tomcat and nginx again (and, with the
//    peer guard, both /healthz say healthy);
//  - seed: its loop is stopped during the reset and started again;
//  - peer: respawn.sh (systemd's stand-in) must be the parent of every service to
//    see how it ends; a host where a unit is no longer supervised (given up, not
//    restarted) or a service is unhealthy gets all three services stopped and a new
//    respawn.sh that starts them, as at boot. A host where all is well is left alone.
// Every wait is bounded; a reset that cannot reach the steady state throws.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Host, HostName } from './host.js';
import type { Lab } from './lab.js';

/** What the agent learned and keeps in state.json across runs (src/policy/types.ts). */
export const LEARNED_SERVICE_KEYS = ['startMs', 'startFrom', 'startAt'] as const;
/**
 * Kept as well, as an agent restarted on a real host finds them: the pids it saw last.
 * Without them every process looks new to the restarted agent, and one that fails its
 * first probe (a cold agent's first HTTP probe can exceed a 500 ms timeout) is taken
 * for a service starting: a "start" of 0.1 s would overwrite the learned one.
 */
export const KEPT_SERVICE_KEYS = ['pids'] as const;
/** What the keepalived memory learned (its `vip` group): the handover's cost. */
export const LEARNED_KEEPALIVED_VIP_KEYS = ['handoverMs'] as const;

export interface ResetOptions {
  log?: (msg: string) => void;
  /** Bound of the whole reset (default 150 s: a tomcat restart with a 20 s deployment, twice over). */
  timeoutMs?: number;
}

export interface Learned {
  /** state.json services.tomcat.startMs after the reset (undefined: nothing learned yet). */
  tomcatStartMs?: number;
  /** state.json keepalived.vip.handoverMs after the reset. */
  handoverMs?: number;
}

export interface ResetResult {
  ms: number;
  /** What had to be done, e.g. "A: tomcat restarted (not healthy: /health 000)". Empty: nothing. */
  actions: string[];
  /** watchdog: what each host's agent starts the next run with. */
  learned: Record<HostName, Learned>;
  /** watchdog: false when state.json could not be rebuilt with the agent's own fresh memory (it was removed instead). */
  memoryKept: boolean;
}

const HOSTS: HostName[] = ['A', 'B'];

async function httpCode(h: Host, url: string, maxS = 2): Promise<string> {
  const r = await h.exec(['curl', '-s', '-o', '/dev/null', '-m', String(maxS), '-w', '%{http_code}', url], { timeoutMs: (maxS + 3) * 1000 });
  return r.stdout.trim() || '000';
}

/**
 * Why the host's tomcat is not healthy ('' when it is): one JVM, not stopped, the
 * application (/) answers 200, and /health answers 200 (once in two tries: a flapping
 * /health, the health-flap fault, still counts as a healthy tomcat).
 */
export async function tomcatProblem(h: Host): Promise<string> {
  const pids = await h.pgrep('org\\.apache\\.catalina\\.startup\\.Bootstrap');
  if (pids.length === 0) return 'not running';
  if (pids.length > 1) return `${pids.length} JVMs (${pids.join(', ')})`;
  const st = (await h.exec(['ps', '-o', 'stat=', '-p', String(pids[0])])).stdout.trim();
  if (st.startsWith('T')) return `stopped (SIGSTOP, pid ${pids[0]})`;
  const page = await httpCode(h, 'http://127.0.0.1:8080/');
  if (page !== '200') return `/ answers ${page}`;
  const health = [await httpCode(h, 'http://127.0.0.1:8080/health')];
  if (health[0] !== '200') health.push(await httpCode(h, 'http://127.0.0.1:8080/health'));
  if (!health.includes('200')) return `/health answers ${health.join(', ')}`;
  return '';
}

/** Whether each of tomcat, nginx, keepalived runs as a child of the host's current respawn.sh unit loops. */
async function respawnProblem(h: Host): Promise<string> {
  const respawn = h.pidOf('respawn');
  if (!respawn || !(await h.isRunning('respawn'))) return 'respawn.sh not running';
  for (const svc of ['tomcat', 'nginx', 'keepalived'] as const) {
    const pid = h.pidOf(svc);
    if (!pid) return `${svc}: no pidfile`;
    // main pid -> unit loop (a subshell of respawn.sh) -> respawn.sh
    const ppid = (await h.exec(['ps', '-o', 'ppid=', '-p', String(pid)])).stdout.trim();
    const gp = ppid ? (await h.exec(['ps', '-o', 'ppid=', '-p', ppid])).stdout.trim() : '';
    if (gp !== String(respawn)) return `${svc} (pid ${pid}) is not supervised by respawn.sh ${respawn}`;
  }
  return '';
}

/** The agent's fresh memory with what it learned kept; from the agent's own build (the lab's agentCli). */
async function rebuildState(lab: Lab, h: Host): Promise<boolean> {
  const file = h.agentStateFile;
  let old: { services?: Record<string, Record<string, unknown>>; keepalived?: { vip?: Record<string, unknown> } } | undefined;
  try {
    old = JSON.parse(readFileSync(file, 'utf8')) as typeof old;
  } catch {
    return true; // nothing saved yet: the agent starts fresh anyway
  }
  const dist = dirname(lab.agentCli);
  try {
    const svc = (await import(pathToFileURL(join(dist, 'policy', 'service.js')).href)) as { freshServiceMemory: () => Record<string, unknown> };
    const ka = (await import(pathToFileURL(join(dist, 'policy', 'keepalived.js')).href)) as { freshKeepalivedMemory: () => { vip: Record<string, unknown> } };
    const pick = (o: Record<string, unknown> | undefined, keys: readonly string[]) =>
      Object.fromEntries(keys.filter((k) => o?.[k] !== undefined).map((k) => [k, o![k]]));
    const services: Record<string, unknown> = {};
    for (const [name, mem] of Object.entries(old?.services ?? {})) {
      const learned = pick(mem, [...LEARNED_SERVICE_KEYS, ...KEPT_SERVICE_KEYS]);
      if (Object.keys(learned).length) services[name] = { ...svc.freshServiceMemory(), ...learned };
    }
    const fresh = ka.freshKeepalivedMemory();
    const memory = { version: 1, services, keepalived: { ...fresh, vip: { ...fresh.vip, ...pick(old?.keepalived?.vip, LEARNED_KEEPALIVED_VIP_KEYS) } } };
    writeFileSync(file, JSON.stringify(memory), { mode: 0o600 });
    return true;
  } catch {
    rmSync(file, { force: true });
    return false;
  }
}

/** Brings a played lab back to its steady state (see the header). */
export async function resetLab(lab: Lab, opts: ResetOptions = {}): Promise<ResetResult> {
  const t0 = Date.now();
  const deadline = t0 + (opts.timeoutMs ?? 150_000);
  const left = () => Math.max(1_000, deadline - Date.now());
  const actions: string[] = [];
  const did = (msg: string) => {
    actions.push(msg);
    opts.log?.(`reset: ${msg}`);
  };
  if (lab.client.running) await lab.client.stop();
  const driver = lab.agent === 'watchdog' ? 'agent' : lab.agent === 'seed' ? 'seed' : undefined;

  // 1. The supervisor stops (the peer's respawn.sh only where its host needs it, below).
  if (driver) for (const h of HOSTS) await lab.hosts[h].ctl(driver, 'stop');

  // Control actions still in flight (a restart the stopped agent had started, which
  // waits for a 20 s deployment) finish first: nothing acts behind the reset's back.
  for (const h of HOSTS) {
    await lab.waitFor(async () => (await lab.hosts[h].pgrep('lab/host/ctl\\.sh')).length === 0, left(), {
      what: `${h}: control actions in flight finished`,
      intervalMs: 250,
    });
  }

  // 2. Every switch off, the deployment time as the lab was built.
  for (const h of HOSTS) {
    const host = lab.hosts[h];
    for (const svc of ['tomcat', 'nginx', 'keepalived'] as const) host.setStartFails(svc, false);
    await lab.clearTomcatFault(h);
    let deploy = '';
    try {
      deploy = readFileSync(host.deploySecondsFile, 'utf8').trim();
    } catch {
      // missing: written below
    }
    if (Number(deploy) !== lab.config.deploySeconds) {
      await lab.setDeploySeconds(h, lab.config.deploySeconds);
      did(`${h}: deployment time back to ${lab.config.deploySeconds} s (was ${deploy || 'unset'})`);
    }
  }

  // 3. Each host healed, in parallel (a tomcat restart takes the whole deployment).
  await Promise.all(
    HOSTS.map(async (h) => {
      const host = lab.hosts[h];
      if (lab.agent === 'peer') {
        const why = (await respawnProblem(host)) || (await tomcatProblem(host)) || ((await host.ctl('nginx', 'ready')).code !== 0 ? 'nginx not ready' : '');
        if (!why) return;
        await host.ctl('respawn', 'stop');
        for (const svc of ['keepalived', 'nginx', 'tomcat'] as const) await host.ctlOk(svc, 'stop');
        await host.ctlOk('respawn', 'start');
        did(`${h}: services restarted under a new respawn.sh (${why})`);
        await lab.waitFor(async () => (await tomcatProblem(host)) === '' && (await host.ctl('nginx', 'ready')).code === 0, left(), {
          what: `${h}: tomcat and nginx healthy under respawn.sh`,
          intervalMs: 500,
        });
        return;
      }
      const why = await tomcatProblem(host);
      if (why) {
        await host.ctlOk('tomcat', 'restart');
        did(`${h}: tomcat restarted (${why})`);
      }
      if ((await host.ctl('nginx', 'ready')).code !== 0) {
        await host.ctlOk('nginx', 'restart');
        did(`${h}: nginx restarted`);
      }
      if (!(await host.isRunning('keepalived'))) {
        await host.ctlOk('keepalived', 'start');
        did(`${h}: keepalived started`);
      }
    }),
  );

  // 4. The agent's memory: fresh, but what it learned.
  let memoryKept = true;
  if (lab.agent === 'watchdog') for (const h of HOSTS) memoryKept = (await rebuildState(lab, lab.hosts[h])) && memoryKept;

  // 5. A master, B backup, the VIP on A alone and served by A, seen from C.
  await lab.waitFor(
    async () => {
      if ((await lab.vipHolder()) !== 'A') return false;
      if (lab.hosts.A.keepalivedState() !== 'MASTER' || lab.hosts.B.keepalivedState() !== 'BACKUP') return false;
      const r = await lab.exec('C', ['curl', '-s', '-m', '1', `http://${lab.vip}/`], { timeoutMs: 5_000 });
      return r.stdout.startsWith('host=A');
    },
    left(),
    { what: 'VIP on A only (A MASTER, B BACKUP), served by A', intervalMs: 250 },
  );

  // 6. The supervisor starts again, and settles.
  if (driver) {
    const since = Date.now();
    for (const h of HOSTS) await lab.hosts[h].ctlOk(driver, 'start');
    if (driver === 'agent') {
      for (const h of HOSTS) {
        for (const service of ['tomcat', 'nginx']) await lab.waitForEvent(h, 'service.up', { service, since: since - 1_000, timeoutMs: left() });
      }
      if (lab.config.guard) {
        await lab.waitFor(async () => (await lab.healthz('A'))?.healthy === true && (await lab.healthz('B'))?.healthy === true, Math.min(left(), 20_000), {
          what: 'both /healthz healthy',
          intervalMs: 250,
        });
      }
    }
  }
  // Still A's (a supervisor that just started must not have moved anything).
  if ((await lab.vipHolder()) !== 'A') throw new Error(`reset: the VIP left A once the supervisor started (${await lab.vipHolder()})`);
  const learned = {} as Record<HostName, Learned>;
  for (const h of HOSTS) {
    const st = lab.hosts[h].readAgentState();
    const ho = st?.keepalived?.vip?.handoverMs;
    learned[h] = { tomcatStartMs: lab.hosts[h].learnedStartMs('tomcat'), handoverMs: typeof ho === 'number' ? ho : undefined };
  }
  return { ms: Date.now() - t0, actions, learned, memoryKept };
}

/** Waits (bounded) until the host's tomcat is healthy, e.g. after a start with a long deployment. */
export async function waitTomcatHealthy(lab: Lab, h: HostName, timeoutMs: number): Promise<void> {
  await lab.waitFor(async () => (await tomcatProblem(lab.hosts[h])) === '', timeoutMs, { what: `${h}: tomcat healthy`, intervalMs: 500 });
}
