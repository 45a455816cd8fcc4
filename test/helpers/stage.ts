// A small stage for integration tests: a temp dir with a watchdog.yaml, a fake tomcat
// (a real HTTP server process), a fake keepalived, and restart/start/stop scripts that
// record what they were asked to do; all inside a private pid namespace.
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PidNamespace, sleep } from './pidns.js';

const here = dirname(fileURLToPath(import.meta.url));
export const ROOT = resolve(here, '..', '..');
export const CLI = join(ROOT, 'dist', 'cli.js');
export const FIXTURES = join(ROOT, 'test', 'fixtures');

export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
    s.on('error', rej);
  });
}

export interface LogLine {
  level: string;
  event?: string;
  service?: string;
  reason?: string;
  [k: string]: unknown;
}

export class Stage {
  readonly dir: string;
  readonly port: number;
  private agents: Array<{ proc: ReturnType<PidNamespace['spawn']>['proc']; lines: LogLine[] }> = [];

  private constructor(
    readonly ns: PidNamespace,
    port: number,
  ) {
    this.dir = mkdtempSync(join(tmpdir(), 'haw-stage-'));
    this.port = port;
    this.script(
      'tomcat-restart',
      `pidfile=${this.dir}/tomcat.pid
[ -e "\${0%/*}/slow" ] && sleep 2  # test switch: a slow restart
if [ -f "$pidfile" ]; then kill -9 "$(cat "$pidfile")" 2>/dev/null; rm -f "$pidfile"; fi
setsid node ${FIXTURES}/fake-service.mjs ${port} A "$pidfile" >/dev/null 2>&1 </dev/null &
for i in $(seq 100); do sleep 0.05; [ -s "$pidfile" ] && exit 0; done
echo "tomcat did not come up" >&2; exit 1`,
    );
    this.script('keepalived-start', `setsid ${FIXTURES}/keepalived >/dev/null 2>&1 </dev/null &`);
    this.script('keepalived-stop', `for p in $(pgrep -x keepalived); do kill -TERM "$p"; done; exit 0`);
  }

  static async create(): Promise<Stage> {
    const ns = await PidNamespace.create();
    return new Stage(ns, await freePort());
  }

  private script(name: string, body: string): void {
    mkdirSync(join(this.dir, 'bin'), { recursive: true });
    const p = join(this.dir, 'bin', name);
    writeFileSync(p, `#!/bin/bash\n${body}\n`);
    chmodSync(p, 0o755);
  }

  /** The restart/start/stop commands go through record.sh so each call is recorded. */
  command(action: string): string[] {
    return [join(FIXTURES, 'record.sh'), action];
  }

  get env(): NodeJS.ProcessEnv {
    return { ...process.env, RECORD: join(this.dir, 'record'), ACTIONS: join(this.dir, 'bin'), JOURNAL_STREAM: '' };
  }

  /** Which actions were run, in order: ["tomcat-restart", "keepalived-stop", ...]. */
  recorded(): string[] {
    const f = join(this.dir, 'record');
    return existsSync(f) ? readFileSync(f, 'utf8').trim().split('\n').filter(Boolean).map((l) => l.split(' ')[1]!) : [];
  }

  setFail(action: string, fail: boolean): void {
    const f = join(this.dir, 'bin', `${action}.fail`);
    if (fail) writeFileSync(f, '');
    else rmSync(f, { force: true });
  }

  config(over: { interval?: string; fall?: number; rise?: number; grace?: string; attempts?: number; extra?: string; keepalivedStop?: boolean } = {}): string {
    const c = `interval: ${over.interval ?? '1s'}
stateDir: ${this.dir}/state
services:
  tomcat:
    critical: true
    process: { name: node, args: 'fake-service\\.mjs ${this.port} ' }
    http: { url: "http://127.0.0.1:${this.port}/", timeout: 500ms, bodyMatches: "host=A" }
    fall: ${over.fall ?? 1}
    rise: ${over.rise ?? 1}
    restart:
      command: ${JSON.stringify(this.command('tomcat-restart'))}
      timeout: 10s
      grace: ${over.grace ?? '3s'}
      attempts: ${over.attempts ?? 1}
${over.extra ?? ''}keepalived:
  process: { name: keepalived }
  start: { command: ${JSON.stringify(this.command('keepalived-start'))} }
${over.keepalivedStop === false ? '' : `  stop: { command: ${JSON.stringify(this.command('keepalived-stop'))} }\n`}`;
    const file = join(this.dir, 'watchdog.yaml');
    writeFileSync(file, c, { mode: 0o644 });
    chmodSync(file, 0o644);
    return file;
  }

  /** Starts the fake tomcat and keepalived (as an operator would before the agent). */
  async startServices(): Promise<void> {
    for (const a of ['tomcat-restart', 'keepalived-start']) {
      const r = await this.ns.run([join(this.dir, 'bin', a)], this.env);
      if (r.code !== 0) throw new Error(`${a}: ${r.stderr}`);
    }
  }

  tomcatPid(): number {
    return this.ns.hostPid(Number(readFileSync(join(this.dir, 'tomcat.pid'), 'utf8'))) ?? -1;
  }

  async keepalivedPids(): Promise<number[]> {
    return this.ns.pids(/\/keepalived$/);
  }

  /** Runs `ha-watchdog <args>` inside the namespace to completion. */
  cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return this.ns.run(['node', CLI, ...args], this.env);
  }

  /** Starts `ha-watchdog run` inside the namespace; its JSON lines are collected. */
  async startAgent(config: string, extra: string[] = []): Promise<{ lines: LogLine[]; pid: number; exited: Promise<number | null> }> {
    const { proc, pid } = this.ns.spawn(['node', CLI, 'run', '-c', config, ...extra], { env: this.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: LogLine[] = [];
    let buf = '';
    proc.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const l = buf.slice(0, i);
        buf = buf.slice(i + 1);
        try {
          lines.push(JSON.parse(l) as LogLine);
        } catch {
          lines.push({ level: 'raw', msg: l });
        }
      }
    });
    proc.stderr!.on('data', (d: Buffer) => lines.push({ level: 'stderr', msg: d.toString() }));
    const exited = new Promise<number | null>((r) => proc.on('close', (code) => r(code)));
    this.agents.push({ proc, lines });
    return { lines, pid: await pid(), exited };
  }

  async destroy(): Promise<void> {
    this.ns.destroy();
    for (const a of this.agents) a.proc.kill('SIGKILL');
    await sleep(50);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export const events = (lines: LogLine[], name: string, service?: string) => lines.filter((l) => l.event === name && (service === undefined || l.service === service));

