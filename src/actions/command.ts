// Runs one configured command: argv, never a shell; its own process group so a timeout
// stops the whole command (TERM, then KILL); output to a file, head/tail kept (to
// /dev/null when stateDir cannot take it: the command runs all the same; output.ts).
import { closeSync } from 'node:fs';
import type { CommandSpec } from '../config/load.js';
import { headAndTail, outputFile } from './output.js';
import { commandResult, type CommandResult } from './result.js';

export type { CommandResult } from './result.js';

/** Grace between TERM and KILL when a command outlives its timeout. */
export const KILL_AFTER_MS = 5000;


export interface RunOptions {
  stateDir: string;
  /** Names the output file: stateDir/output/<name>.log. */
  name: string;
  /** Called once the command's process exists. */
  onSpawn?: (pid: number) => void;
  /** Written to the command's stdin (then closed); without it stdin is /dev/null. */
  input?: string;
}

export async function runCommand(spec: CommandSpec, opts: RunOptions): Promise<CommandResult> {
  const { execa } = await import('execa');
  const started = performance.now();
  const [file, ...args] = spec.command as [string, ...string[]];
  const out = outputFile(opts.stateDir, opts.name);
  let timedOut = false;
  let term: NodeJS.Timeout | undefined;
  let kill: NodeJS.Timeout | undefined;
  // The agent's sd_notify variables are its own: systemd tools send "ERRNO=" to an
  // inherited NOTIFY_SOCKET when they fail, and a command is never the main PID.
  const { NOTIFY_SOCKET: _socket, WATCHDOG_USEC: _usec, WATCHDOG_PID: _pid, ...env } = process.env;
  try {
    const sub = execa(file, args, {
      env,
      extendEnv: false,
      // A notify command reads the event from stdin; every other command gets none.
      ...(opts.input !== undefined ? { input: opts.input } : { stdin: 'ignore' }),
      stdout: out.fd,
      stderr: out.fd,
      reject: false,
      // Own process group, so the timeout reaches the command's children too; and not
      // cleaned up with the agent: a restart must not be cut short because the agent stops.
      detached: true,
      cleanup: false,
      // execa's types reject a numeric fd next to `detached` (the runtime accepts it).
    } as unknown as { reject: false });
    if (sub.pid !== undefined) opts.onSpawn?.(sub.pid);
    const signalGroup = (sig: NodeJS.Signals) => {
      try {
        if (sub.pid) process.kill(-sub.pid, sig);
      } catch {
        // already gone
      }
    };
    term = setTimeout(() => {
      timedOut = true;
      signalGroup('SIGTERM');
      kill = setTimeout(() => signalGroup('SIGKILL'), KILL_AFTER_MS);
    }, spec.timeout);
    const r = await sub;
    const output = [out.note, out.path !== null ? headAndTail(out.fd) : ''].filter(Boolean).join('\n');
    const cause = (r as { cause?: { code?: string } }).cause;
    const seen = { exitCode: r.exitCode, signal: r.signal, output, since: started };
    if (timedOut) return commandResult(false, { ...seen, timedOut, reason: `timed out after ${spec.timeout} ms (TERM, then KILL after ${KILL_AFTER_MS} ms)` });
    if (r.exitCode === 0) return commandResult(true, seen);
    const reason =
      r.exitCode !== undefined
        ? `exit code ${r.exitCode}`
        : r.signal
          ? `killed by ${r.signal}`
          : `${cause?.code ?? 'error'}: ${String((r as { originalMessage?: string }).originalMessage ?? r.shortMessage)}`;
    return commandResult(false, { ...seen, reason });
  } finally {
    clearTimeout(term);
    clearTimeout(kill);
    closeSync(out.fd);
  }
}
