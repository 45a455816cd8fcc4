// One lab host (A or B): a network namespace plus its own pid, mount and UTS
// namespaces, with tomcat, nginx and keepalived, controlled by lab/host/ctl.sh.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type AgentEvent, readEventFile } from './events.js';
import { run, runOk, type RunOptions, type RunResult } from './exec.js';
import { nsenterArgv } from './netns.js';

export type HostName = 'A' | 'B';
export type Service = 'tomcat' | 'nginx' | 'keepalived';
/** What supervises a host: the ha-watchdog agent, the seed's bash loop, or the respawn loop of the vrrp_script peer. */
export type Driver = 'agent' | 'seed' | 'respawn';
export type Signal = 'KILL' | 'TERM' | 'STOP' | 'CONT' | 'INT' | 'HUP';

/** The parts of the agent's state.json (src/policy/types.ts Memory) the lab reads. */
export interface AgentState {
  version?: number;
  services?: Record<string, { startMs?: number; [k: string]: unknown }>;
  keepalived?: { vip?: { handoverMs?: number }; [k: string]: unknown };
  [k: string]: unknown;
}

export class Host {
  private cachedInitPid?: number;

  constructor(
    readonly name: HostName,
    /** /tmp/halab-<id>/<name> */
    readonly dir: string,
    /** Its network namespace (ip netns name). */
    readonly ns: string,
    /** This host's address on the lab bridge. */
    readonly addr: string,
    private readonly ctlScript: string,
  ) {}

  /** PID (in the root namespace) of the host's PID 1. */
  get initPid(): number {
    this.cachedInitPid ??= Number(readFileSync(join(this.dir, 'init.pid'), 'utf8').trim());
    return this.cachedInitPid;
  }

  // --- paths ---------------------------------------------------------------
  get logDir(): string {
    return join(this.dir, 'logs');
  }
  /** CATALINA_BASE/logs: catalina.out lives here. */
  get tomcatLogDir(): string {
    return join(this.dir, 'tomcat', 'logs');
  }
  get watchdogConfig(): string {
    return join(this.dir, 'watchdog.yaml');
  }
  get agentStateDir(): string {
    return join(this.dir, 'state');
  }
  /** The agent's state.json (in its stateDir): its memory, kept across agent restarts. */
  get agentStateFile(): string {
    return join(this.agentStateDir, 'state.json');
  }
  /** The webapp's deployment time file, read at each tomcat start (seconds). */
  get deploySecondsFile(): string {
    return join(this.dir, 'tomcat', 'deploy-seconds');
  }
  /** The agent's stdout (pino JSON lines). */
  get agentLog(): string {
    return join(this.logDir, 'agent.log');
  }
  /** keepalived's track_file (Lab.up({ control: 'track-file' })): <dir>/run/keepalived.track. */
  get trackFile(): string {
    return join(this.dir, 'run', 'keepalived.track');
  }
  /** The track file's content, trimmed ('' when missing). */
  readTrackFile(): string {
    return existsSync(this.trackFile) ? readFileSync(this.trackFile, 'utf8').trim() : '';
  }

  /** Per-host control script, e.g. script('tomcat', 'restart') = <dir>/bin/tomcat-restart. */
  script(service: Service, action: 'start' | 'stop' | 'restart' | 'kill' | 'status'): string {
    return join(this.dir, 'bin', `${service}-${action}`);
  }

  // --- running things inside the host --------------------------------------
  /** Runs argv inside this host (its namespaces). Resolves whatever the exit code. */
  exec(argv: string[], opts?: RunOptions): Promise<RunResult> {
    return run(nsenterArgv(this.initPid, this.dir, argv), opts);
  }
  /** Like exec() but throws unless the command exits 0. */
  execOk(argv: string[], opts?: RunOptions): Promise<RunResult> {
    return runOk(nsenterArgv(this.initPid, this.dir, argv), opts);
  }
  /** lab/host/ctl.sh <dir> <service> <action> [args], inside the host. */
  ctl(service: Service | Driver, action: string, ...args: string[]): Promise<RunResult> {
    return this.exec([this.ctlScript, this.dir, service, action, ...args], { timeoutMs: 90_000 });
  }
  async ctlOk(service: Service | Driver, action: string, ...args: string[]): Promise<RunResult> {
    const r = await this.ctl(service, action, ...args);
    if (r.code !== 0) throw new Error(`host ${this.name}: ctl ${service} ${action} failed (exit ${r.code}): ${r.stderr.trim()}`);
    return r;
  }

  /**
   * Starts argv detached inside the host (e.g. a `tail -f` decoy) and returns
   * its PID as seen inside the host. It dies with the host at the latest.
   */
  async spawnDetached(argv: string[]): Promise<number> {
    // Fixed script; argv travels as positional parameters, never interpolated.
    const r = await this.execOk(['setsid', 'sh', '-c', '"$@" </dev/null >/dev/null 2>&1 & echo $!', 'sh', ...argv]);
    return Number(r.stdout.trim());
  }

  // --- processes -----------------------------------------------------------
  /** PID inside the host from the service's pidfile, if any. */
  pidOf(service: Service | Driver): number | undefined {
    const f = join(this.dir, 'run', `${service}.pid`);
    if (!existsSync(f)) return undefined;
    const n = Number(readFileSync(f, 'utf8').trim());
    return Number.isInteger(n) && n > 0 ? n : undefined;
  }
  /** True when the service has a live process in this host. */
  async isRunning(service: Service | Driver): Promise<boolean> {
    return (await this.ctl(service, 'status')).code === 0;
  }
  /** Sends a signal to one PID inside the host. */
  async kill(pid: number, sig: Signal): Promise<void> {
    await this.execOk(['kill', `-${sig}`, String(pid)]);
  }
  /** This host's process table (`ps -ww -eo pid,ppid,stat,comm,args` inside its pid namespace). */
  async ps(): Promise<string> {
    return (await this.execOk(['ps', '-ww', '-eo', 'pid,ppid,stat,comm,args'])).stdout;
  }
  /** PIDs (inside the host) whose full command line matches the extended regex, via pgrep -f. */
  async pgrep(pattern: string): Promise<number[]> {
    const r = await this.exec(['pgrep', '-f', pattern]);
    return r.stdout.split('\n').filter(Boolean).map(Number);
  }

  // --- the start-failure switch ---------------------------------------------
  /** While on, `<service> start` (and so restart) fails on purpose. */
  setStartFails(service: Service, on: boolean): void {
    const f = join(this.dir, 'fail', service);
    if (on) {
      mkdirSync(join(this.dir, 'fail'), { recursive: true });
      writeFileSync(f, 'set by the lab\n');
    } else {
      rmSync(f, { force: true });
    }
  }

  // --- agent ---------------------------------------------------------------
  agentEvents(): AgentEvent[] {
    return readEventFile(this.agentLog);
  }
  /** The agent's state.json, parsed; undefined when missing or not JSON. */
  readAgentState(): AgentState | undefined {
    try {
      const o = JSON.parse(readFileSync(this.agentStateFile, 'utf8')) as unknown;
      return o && typeof o === 'object' ? (o as AgentState) : undefined;
    } catch {
      return undefined;
    }
  }
  /** What the agent learned of a service's start time (state.json services.<name>.startMs), ms. */
  learnedStartMs(service = 'tomcat'): number | undefined {
    const v = this.readAgentState()?.services?.[service]?.startMs;
    return typeof v === 'number' ? v : undefined;
  }
  /** keepalived's VRRP state from the last "(VI_1) Entering X STATE" of its log ('' when none). */
  keepalivedState(): string {
    const m = [...this.readLog('keepalived.log').matchAll(/\(VI_1\) Entering (\w+) STATE/g)].pop();
    return m?.[1] ?? '';
  }
  /** Text of one of the host's log files, '' when absent (e.g. 'keepalived.log', 'seed.log', 'ctl.log'). */
  readLog(name: string): string {
    const f = join(this.logDir, name);
    return existsSync(f) ? readFileSync(f, 'utf8') : '';
  }
}
