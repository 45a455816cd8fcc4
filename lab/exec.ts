// Running lab commands: always an argv array, never a shell string.
import { execFile } from 'node:child_process';

export interface RunResult {
  argv: string[];
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Kill the command after this long. Default 60 s. */
  timeoutMs?: number;
  /** Signal for the timeout kill. Default SIGKILL; SIGTERM lets a script's trap clean up. */
  killSignal?: NodeJS.Signals;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

/** Runs argv and resolves with its exit code and output, whatever the code. */
export function run(argv: string[], opts: RunOptions = {}): Promise<RunResult> {
  const [file, ...args] = argv;
  if (!file) throw new Error('run: empty argv');
  return new Promise((resolve, reject) => {
    execFile(
      file,
      args,
      {
        timeout: opts.timeoutMs ?? 60_000,
        killSignal: opts.killSignal ?? 'SIGKILL',
        maxBuffer: 16 * 1024 * 1024,
        cwd: opts.cwd,
        env: opts.env,
        encoding: 'utf8',
      },
      (err, stdout, stderr) => {
        if (err && typeof err.code !== 'number') {
          // Spawn failure (ENOENT ...) or killed by the timeout.
          if (err.killed || err.signal) {
            resolve({ argv, code: 124, stdout, stderr: `${stderr}\n[killed: ${err.signal ?? 'timeout'}]` });
            return;
          }
          reject(new Error(`cannot run ${argv.join(' ')}: ${err.message}`));
          return;
        }
        resolve({ argv, code: err ? Number(err.code) : 0, stdout, stderr });
      },
    );
  });
}

/** Like run() but throws, with the command's stderr, unless it exits 0. */
export async function runOk(argv: string[], opts: RunOptions = {}): Promise<RunResult> {
  const r = await run(argv, opts);
  if (r.code !== 0) {
    throw new Error(`command failed (exit ${r.code}): ${argv.join(' ')}\n${r.stderr.trim()}\n${r.stdout.trim()}`.trim());
  }
  return r;
}
