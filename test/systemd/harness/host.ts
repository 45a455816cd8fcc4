// Host-side helpers of the systemd container harness: running a command (argv, no
// shell), whether a pid lives (and its start time, against pid reuse), reading /proc
// and log tails, and the mounts under a directory.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';

export type Log = (line: string) => void;

export interface ExecResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOpts {
  input?: string | Buffer;
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  /** Append stdout+stderr to this file instead of collecting them. */
  logFile?: string;
  /** Own session/process group: a `kill 0` inside cannot reach the test runner. */
  detached?: boolean;
}

export function run(cmd: string, args: string[], opts: RunOpts = {}): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    let out: number | undefined;
    if (opts.logFile) out = fs.openSync(opts.logFile, 'a');
    const child = spawn(cmd, args, {
      env: opts.env ?? process.env,
      detached: opts.detached ?? false,
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', out ?? 'pipe', out ?? 'pipe'],
    });
    if (out !== undefined) fs.closeSync(out);
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout?.on('data', (b: Buffer) => stdout.push(b));
    child.stderr?.on('data', (b: Buffer) => stderr.push(b));
    let timer: NodeJS.Timeout | undefined;
    if (opts.timeoutMs) {
      timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs);
    }
    child.on('error', (err) => {
      if (timer) clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({
        code,
        signal,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
      });
    });
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

export function describeResult(what: string, r: ExecResult): string {
  return `${what} exited ${r.code ?? r.signal}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Field 22 of /proc/<pid>/stat: start time, to tell a live owner from PID reuse. */
export function startTime(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function tail(file: string, lines = 40): string {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

export function safeReaddir(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

export function readText(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** Mount points at or under dir (this process's mount namespace). */
export function mountsUnder(dir: string): string[] {
  const prefix = dir.endsWith('/') ? dir : `${dir}/`;
  return fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((m): m is string => !!m && (m === dir || m.startsWith(prefix)));
}
