// The two-host lab, for node:test tests and benches.
//
//   const lab = await Lab.up({ agent: 'none' });
//   try {
//     await lab.client.start();
//     await lab.killTomcat('A', 'KILL');
//     await lab.client.waitForWho('B', 20_000);
//   } finally {
//     await lab.down();
//   }
//
// Building and tearing down the namespaces is lab/lab.sh's job (up/down); this
// class wraps it and adds the client, events and waiting. See lab/README.md.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from './client.js';
import type { AgentEvent } from './events.js';
import { run, type RunOptions, type RunResult } from './exec.js';
import { type Driver, Host, type HostName, type Service, type Signal } from './host.js';
import { ipv4Addresses, netnsExecArgv } from './netns.js';
import { labUnavailableReason } from './prereqs.js';
import { type Truthy, waitFor, type WaitOptions } from './wait.js';

export { outages, segments, type ClientOptions, type Outage, type Sample, type Segment, type Who } from './client.js';
export { eventsNamed, type AgentEvent } from './events.js';
export type { AgentState, Driver, HostName, Service, Signal } from './host.js';
export { labSkip, labUnavailableReason } from './prereqs.js';
export { waitFor } from './wait.js';

/** Repository root, from this file's location (lab/lab.ts). */
export const REPO_ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const LAB_SH = join(REPO_ROOT, 'lab', 'lab.sh');
const CTL_SH = join(REPO_ROOT, 'lab', 'host', 'ctl.sh');

/**
 * What supervises each host once the lab is up:
 *  - none: nothing (baseline: only keepalived's VRRP);
 *  - watchdog: ha-watchdog (`node dist/cli.js run -c <host>/watchdog.yaml`; needs `npm run build`);
 *  - seed: the seed document's bash loop (lab/seed-loop.sh);
 *  - peer: keepalived vrrp_script health checks + a respawn loop (systemd Restart= emulation).
 */
export type AgentKind = 'none' | 'watchdog' | 'seed' | 'peer';

/** failover.order of the agent's config (lab.sh up --order). */
export type FailoverOrder = 'restart-first' | 'handover-first';
/** keepalived.control of the agent's config (lab.sh up --control). */
export type KeepalivedControl = 'stop' | 'track-file';

/**
 * How each host's watchdog.yaml is generated (lab.sh up --profile):
 *  - lab: the lab's own config (interval 1s, fall/rise 2, timeouts 1s, one restart attempt, ...);
 *  - shipped: only what is host-specific (stateDir, process matching, http.url, the
 *    restart/start/stop commands, keepalived.vip) plus the peer guard as README.md
 *    documents it for a pair; everything else is the agent's defaults. Implies
 *    `guard` and `tomcatHealth: '/health'`.
 */
export type Profile = 'lab' | 'shipped';

/** The lab webapp's run-time faults (lab/host/ctl.sh tomcat fault ...). */
export type TomcatFault = '500' | 'flap';

/** Port of the agent's metrics server (/healthz) when the peer guard is on. */
export const HEALTHZ_PORT = 9120;

export interface LabOptions {
  agent?: AgentKind;
  /** Start keepalived on both hosts during up (default true). */
  keepalived?: boolean;
  /** First three octets of the lab's /24 (default 10.213.0). Only inside the lab's namespaces. */
  net?: string;
  /** Replace a host's generated watchdog.yaml before the agent starts (agent: 'watchdog'). */
  watchdogYaml?: (host: Host) => string;
  /** Progress messages (default: none). */
  log?: (msg: string) => void;
  /**
   * The agent's entry point (default: $HALAB_AGENT_CLI, else <repo>/dist/cli.js), e.g.
   * a snapshot of dist/ that a concurrent `npm run build` cannot change (bench/lab.ts).
   */
  agentCli?: string;
  /**
   * failover.order in both hosts' watchdog.yaml. Default: not written (the agent's
   * default, restart-first). handover-first needs `guard` (the peer's /healthz).
   */
  order?: FailoverOrder;
  /**
   * keepalived.control in both hosts' watchdog.yaml. 'track-file' also adds to
   * keepalived.conf `track_file ha_watchdog { file <host>/run/keepalived.track
   * weight 0 init_file 0 }` tracked by VI_1, and sets keepalived.trackFile to it
   * (Host.trackFile). Default: not written (stop).
   */
  control?: KeepalivedControl;
  /**
   * The peer guard: `metrics: { listen: <host addr>:9120 }` and `peer: { url:
   * http://<other host addr>:9120/healthz, timeout: 1s }` in each host's watchdog.yaml.
   */
  guard?: boolean;
  /**
   * Seconds the lab webapp takes to deploy at each tomcat start (lab/webapp: the port
   * is bound meanwhile, requests hang). Default 0: tomcat answers ~1 s after its start,
   * as before. Written to <host>/tomcat/deploy-seconds; `lab.setDeploySeconds()` changes it.
   */
  deploySeconds?: number;
  /** watchdog.yaml profile (default 'lab'); 'shipped' implies guard and tomcatHealth '/health'. */
  profile?: Profile;
  /**
   * The path of every tomcat health check: the agent's http.url and the peer's
   * vrrp_script curl (default '/', the page; '/health' with profile shipped).
   */
  tomcatHealth?: string;
}

/** The lab's generated-config options, as lab.sh recorded them in lab.env. */
export interface LabConfig {
  order?: FailoverOrder;
  control?: KeepalivedControl;
  guard: boolean;
  profile: Profile;
  /** The deployment time written at up (a scenario may change it later: lab.setDeploySeconds). */
  deploySeconds: number;
  tomcatHealth: string;
}

const DRIVER_OF: Record<Exclude<AgentKind, 'none'>, Driver> = { watchdog: 'agent', seed: 'seed', peer: 'respawn' };

// Labs of this process still up: torn down synchronously if the process exits early.
const live = new Set<Lab>();
let handlersInstalled = false;
function installExitHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', () => {
    for (const lab of live) lab.downSync();
  });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      for (const lab of live) lab.downSync();
      process.exit(128 + (sig === 'SIGINT' ? 2 : sig === 'SIGTERM' ? 15 : 1));
    });
  }
}

function readEnvFile(file: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line);
    if (m?.[1]) env[m[1]] = m[2] ?? '';
  }
  return env;
}

export class Lab {
  readonly id: string;
  readonly dir: string;
  readonly vip: string;
  readonly agent: AgentKind;
  readonly ns: { A: string; B: string; C: string; br: string };
  readonly addr: { A: string; B: string; C: string };
  readonly hosts: { A: Host; B: Host };
  /** The client in namespace C, polling http://<VIP>/. Not started by up(). */
  readonly client: Client;
  /** Wall-clock durations of up() and down(), ms. */
  readonly timings: { upMs: number; downMs?: number };
  /** order / control / guard of the generated configs (Lab.up options). */
  readonly config: LabConfig;
  /** The agent's entry point this lab runs (Lab.up's agentCli). */
  readonly agentCli: string;
  private isDown = false;

  private constructor(dir: string, agent: AgentKind, upMs: number, agentCli: string) {
    const env = readEnvFile(join(dir, 'lab.env'));
    const get = (k: string): string => {
      const v = env[k];
      if (!v) throw new Error(`lab.env: ${k} missing`);
      return v;
    };
    this.dir = dir;
    this.id = get('LAB_ID');
    this.vip = get('VIP');
    this.agent = agent;
    this.ns = { A: get('NS_A'), B: get('NS_B'), C: get('NS_C'), br: get('NS_BR') };
    this.addr = { A: get('ADDR_A'), B: get('ADDR_B'), C: get('ADDR_C') };
    this.hosts = {
      A: new Host('A', join(dir, 'A'), this.ns.A, this.addr.A, CTL_SH),
      B: new Host('B', join(dir, 'B'), this.ns.B, this.addr.B, CTL_SH),
    };
    this.client = new Client(this.ns.C, `http://${this.vip}/`, join(dir, 'C'), REPO_ROOT);
    this.timings = { upMs };
    this.config = {
      ...(env.ORDER ? { order: env.ORDER as FailoverOrder } : {}),
      ...(env.CONTROL ? { control: env.CONTROL as KeepalivedControl } : {}),
      guard: env.GUARD === '1',
      profile: env.PROFILE === 'shipped' ? 'shipped' : 'lab',
      deploySeconds: Number(env.DEPLOY ?? 0) || 0,
      tomcatHealth: env.TOMCAT_HEALTH || '/',
    };
    this.agentCli = agentCli;
  }

  /**
   * Builds a fresh lab (unique namespace names), waits until A holds the VIP and
   * answers through it (seen from C), then starts the chosen agent on both hosts.
   * Always pair with `await lab.down()` (finally / after hook).
   */
  static async up(opts: LabOptions = {}): Promise<Lab> {
    const reason = labUnavailableReason();
    if (reason) throw new Error(`lab cannot run: ${reason}`);
    const agent = opts.agent ?? 'none';
    const agentCli = opts.agentCli ?? (process.env.HALAB_AGENT_CLI || join(REPO_ROOT, 'dist', 'cli.js'));
    if (agent === 'watchdog' && !existsSync(agentCli)) {
      throw new Error(`agent 'watchdog' needs ${agentCli}: run 'npm run build' first`);
    }
    const argv = ['bash', LAB_SH, 'up', '--owner', String(process.pid), '--agent', agent, '--no-driver'];
    if (opts.keepalived === false) argv.push('--no-keepalived');
    if (opts.net) argv.push('--net', opts.net);
    if (opts.order) argv.push('--order', opts.order);
    if (opts.control) argv.push('--control', opts.control);
    if (opts.guard) argv.push('--guard');
    if (opts.deploySeconds !== undefined) argv.push('--deploy', String(opts.deploySeconds));
    if (opts.profile) argv.push('--profile', opts.profile);
    if (opts.tomcatHealth) argv.push('--tomcat-health', opts.tomcatHealth);
    installExitHandlers();
    const t0 = performance.now();
    // SIGTERM on timeout: lab.sh's trap then tears the half-built lab down.
    const r = await run(argv, { timeoutMs: 180_000, killSignal: 'SIGTERM', env: { ...process.env, HALAB_AGENT_CLI: agentCli } });
    const m = /^LAB_DIR=(.+)$/m.exec(r.stdout);
    if (r.code !== 0 || !m?.[1]) {
      throw new Error(`lab up failed (exit ${r.code}):\n${r.stderr.trim()}`);
    }
    const lab = new Lab(m[1].trim(), agent, 0, agentCli);
    live.add(lab);
    try {
      if (agent !== 'none') {
        if (agent === 'watchdog' && opts.watchdogYaml) {
          for (const h of lab.hostList()) writeFileSync(h.watchdogConfig, opts.watchdogYaml(h));
        }
        for (const h of lab.hostList()) await h.ctlOk(DRIVER_OF[agent], 'start');
      }
    } catch (e) {
      await lab.down();
      throw e;
    }
    lab.timings.upMs = Math.round(performance.now() - t0);
    opts.log?.(`lab ${lab.id} up in ${lab.timings.upMs} ms (${lab.dir})`);
    return lab;
  }

  host(name: HostName): Host {
    return this.hosts[name];
  }
  hostList(): Host[] {
    return [this.hosts.A, this.hosts.B];
  }

  /** Runs argv inside host A or B (their namespaces) or in the client namespace C. */
  exec(where: HostName | 'C', argv: string[], opts?: RunOptions): Promise<RunResult> {
    if (where === 'C') return run(netnsExecArgv(this.ns.C, argv), opts);
    return this.hosts[where].exec(argv, opts);
  }

  /** lab/host/ctl.sh <service> <action> on a host, e.g. ctl('A', 'tomcat', 'restart'). */
  ctl(host: HostName, service: Service | Driver, action: string, ...args: string[]): Promise<RunResult> {
    return this.hosts[host].ctl(service, action, ...args);
  }

  // --- faults ----------------------------------------------------------------
  /** Signals every tomcat JVM on the host (KILL: dead; STOP: hung, port still accepts). */
  async killTomcat(host: HostName, sig: Signal = 'KILL'): Promise<void> {
    await this.hosts[host].ctlOk('tomcat', 'kill', sig);
  }
  /** Signals every nginx process (master and workers) on the host. */
  async killNginx(host: HostName, sig: Signal = 'KILL'): Promise<void> {
    await this.hosts[host].ctlOk('nginx', 'kill', sig);
  }
  /**
   * Signals keepalived's parent by PID (its pidfile), inside the host. TERM: it
   * drops the VIP and tells the peer (priority 0). KILL to the parent alone: its
   * VRRP child notices and exits cleanly, dropping the VIP too. To leave the VIP
   * on the interface (the peer then takes it as well: duplicate VIP), kill every
   * keepalived process: `lab.hosts.A.ctl('keepalived', 'kill', 'KILL')`.
   */
  async killKeepalived(host: HostName, sig: Signal = 'TERM'): Promise<void> {
    const h = this.hosts[host];
    const pid = h.pidOf('keepalived');
    if (!pid) throw new Error(`host ${host}: no keepalived pidfile`);
    await h.kill(pid, sig);
  }
  /** Makes `tomcat start` (and so the restart script) fail on purpose while on. */
  setTomcatStartFails(host: HostName, on: boolean): void {
    this.hosts[host].setStartFails('tomcat', on);
  }
  setStartFails(host: HostName, service: Service, on: boolean): void {
    this.hosts[host].setStartFails(service, on);
  }
  /**
   * Switches one of the lab webapp's run-time faults on a host (lab/host/ctl.sh tomcat
   * fault): '500' makes the running JVM answer every request with HTTP 500 until it
   * is restarted (or the fault cleared); 'flap' makes /health alternate 500 / 200 per
   * request while the application keeps serving.
   */
  async tomcatFault(host: HostName, fault: TomcatFault): Promise<void> {
    await this.hosts[host].ctlOk('tomcat', 'fault', fault);
  }
  /** Clears one run-time fault of the host's tomcat, or both. */
  async clearTomcatFault(host: HostName, fault?: TomcatFault): Promise<void> {
    await this.hosts[host].ctlOk('tomcat', 'fault', 'clear', ...(fault ? [fault] : []));
  }
  /** The deployment time of the host's webapp from its next tomcat start on (seconds). */
  async setDeploySeconds(host: HostName, seconds: number): Promise<void> {
    await this.hosts[host].ctlOk('tomcat', 'deploy', String(seconds));
  }
  /** `tail -f <tomcat log dir>/catalina.out` on the host: a process whose command line says "tomcat". Returns its PID inside the host. */
  startTailDecoy(host: HostName): Promise<number> {
    return this.hosts[host].spawnDetached(['tail', '-f', join(this.hosts[host].tomcatLogDir, 'catalina.out')]);
  }

  // --- supervisors -----------------------------------------------------------
  startDriver(host: HostName, driver: Driver): Promise<RunResult> {
    return this.hosts[host].ctlOk(driver, 'start');
  }
  stopDriver(host: HostName, driver: Driver): Promise<RunResult> {
    return this.hosts[host].ctlOk(driver, 'stop');
  }

  // --- observation -------------------------------------------------------------
  /** Hosts whose eth0 has the VIP now (both, after keepalived was SIGKILLed on the master). */
  async vipHolders(): Promise<HostName[]> {
    const out: HostName[] = [];
    for (const h of this.hostList()) {
      if ((await ipv4Addresses(h.ns)).includes(this.vip)) out.push(h.name);
    }
    return out;
  }
  async vipHolder(): Promise<HostName | 'none' | 'both'> {
    const hs = await this.vipHolders();
    return hs.length === 0 ? 'none' : hs.length === 2 ? 'both' : hs[0]!;
  }
  /**
   * The host's /healthz as the peer sees it (curl from C, 1 s), parsed; undefined
   * when it does not answer with JSON (guard off, agent not up, ...).
   */
  async healthz(host: HostName): Promise<{ healthy?: boolean; [k: string]: unknown } | undefined> {
    const r = await this.exec('C', ['curl', '-s', '-m', '1', `http://${this.addr[host]}:${HEALTHZ_PORT}/healthz`], { timeoutMs: 5_000 });
    try {
      const o = JSON.parse(r.stdout) as unknown;
      return o && typeof o === 'object' ? (o as { healthy?: boolean }) : undefined;
    } catch {
      return undefined;
    }
  }
  /** The agent's events on a host (parsed pino JSON lines of its stdout). */
  agentEvents(host: HostName): AgentEvent[] {
    return this.hosts[host].agentEvents();
  }
  /**
   * Waits until the host's agent logged `event` (for `service`, when given) at or
   * after `since` (epoch ms, default 0) and returns that event.
   */
  waitForEvent(
    host: HostName,
    event: string,
    opts: { service?: string; since?: number; timeoutMs?: number } = {},
  ): Promise<AgentEvent> {
    const since = opts.since ?? 0;
    return waitFor(
      () =>
        this.agentEvents(host).find(
          (e) => e.event === event && (opts.service === undefined || e.service === opts.service) && (e.t ?? 0) >= since,
        ),
      opts.timeoutMs ?? 30_000,
      { what: `agent event ${event}${opts.service ? `/${opts.service}` : ''} on ${host}`, intervalMs: 100 },
    );
  }
  waitFor<T>(predicate: () => T | Promise<T>, timeoutMs: number, opts?: WaitOptions): Promise<Truthy<T>> {
    return waitFor(predicate, timeoutMs, opts);
  }

  // --- teardown ----------------------------------------------------------------
  /** Stops the client, then tears the whole lab down (all processes, namespaces, files). Idempotent. */
  async down(): Promise<void> {
    if (this.isDown) return;
    const t0 = performance.now();
    await this.client.stop().catch(() => undefined);
    const r = await run(['setsid', '-w', 'bash', LAB_SH, 'down', this.dir], { timeoutMs: 60_000 });
    this.isDown = true;
    live.delete(this);
    this.timings.downMs = Math.round(performance.now() - t0);
    if (r.code !== 0) throw new Error(`lab down failed (exit ${r.code}): ${r.stderr.trim()}`);
  }

  /** Synchronous teardown for exit handlers. */
  downSync(): void {
    if (this.isDown) return;
    this.isDown = true;
    live.delete(this);
    // setsid: immune to the terminal's SIGINT/SIGHUP that may be ending this process.
    spawnSync('setsid', ['-w', 'bash', LAB_SH, 'down', this.dir], { stdio: 'ignore', timeout: 60_000 });
  }
}
