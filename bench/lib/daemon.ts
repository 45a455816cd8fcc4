// `node dist/cli.js run -c CONFIG` inside a stand-in host's namespace, its JSON log
// lines collected as they come (with the time each arrived).
import type { ChildProcess } from 'node:child_process';
import type { StandInHost } from './host.js';
import { killTree, sleep } from './ns.js';
import { CLI } from './paths.js';
// @ts-expect-error a plain .mjs worker module, no types
import { cronEnv } from '../workers/common.mjs';

export interface LogLine {
  level?: string;
  time?: string;
  event?: string;
  service?: string;
  reason?: string;
  [k: string]: unknown;
}

export class Daemon {
  readonly lines: LogLine[] = [];
  readonly stderr: string[] = [];
  private constructor(
    private readonly proc: ChildProcess,
    /** Host pid of the node process. */
    readonly pid: number,
    readonly exited: Promise<number | null>,
  ) {}

  /** In a clean environment, as systemd starts it (no NODE_EXTRA_CA_CERTS from this shell). extraArgs: more `run` options, e.g. ['--log-level', 'debug']; nodeArgs: options of node itself, e.g. ['--import', preload]. */
  static async start(host: StandInHost, config: string, extraArgs: string[] = [], nodeArgs: string[] = []): Promise<Daemon> {
    const { proc, pid } = host.ns.spawn([process.execPath, ...nodeArgs, CLI, 'run', '-c', config, ...extraArgs], { env: cronEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<number | null>((r) => proc.on('close', (code) => r(code)));
    const d = new Daemon(proc, await pid(), exited);
    let buf = '';
    proc.stdout!.on('data', (chunk: Buffer) => {
      buf += chunk.toString();
      for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
        const l = buf.slice(0, i);
        buf = buf.slice(i + 1);
        try {
          d.lines.push(JSON.parse(l) as LogLine);
        } catch {
          d.lines.push({ level: 'raw', msg: l });
        }
      }
    });
    proc.stderr!.on('data', (chunk: Buffer) => d.stderr.push(chunk.toString()));
    return d;
  }

  events(name: string, service?: string): LogLine[] {
    return this.lines.filter((l) => l.event === name && (service === undefined || l.service === service));
  }

  /** The first line after index `from` that pred accepts; throws after timeoutMs. */
  async waitFor(what: string, pred: (l: LogLine) => boolean, timeoutMs: number, from = 0): Promise<{ line: LogLine; index: number }> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      for (let i = from; i < this.lines.length; i++) if (pred(this.lines[i]!)) return { line: this.lines[i]!, index: i };
      if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last lines:\n${this.lines.slice(-8).map((l) => JSON.stringify(l)).join('\n')}\n${this.stderr.join('').slice(-1000)}`);
      await sleep(10);
    }
  }

  /** SIGTERM, then SIGKILL (the process and what it started) if it has not exited in 15 s. */
  async stop(): Promise<void> {
    try {
      process.kill(this.pid, 'SIGTERM');
    } catch {
      return;
    }
    const done = await Promise.race([this.exited.then(() => true), sleep(15_000).then(() => false)]);
    if (!done) {
      killTree(this.pid);
      await Promise.race([this.exited, sleep(2000)]);
    }
    if (this.proc.exitCode === null) this.proc.kill('SIGKILL');
  }
}
