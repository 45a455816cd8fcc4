// Stopping and starting keepalived. Stop prefers SIGTERM (keepalived then sends
// priority-0 adverts and the backup takes the VIP at once; a SIGKILLed one makes the
// backup wait ~3 x advert_int), escalating to SIGKILL if it will not go.
import type { Config } from '../config/load.js';
import { isDead, readStat } from '../os/proc.js';
import { runCommand } from './command.js';
import { commandResult, type CommandResult } from './result.js';

const TERM_WAIT_MS = 10_000;

// A `unit` instead of a `command` is a systemd job, run by execute.ts (unit-job.ts).
export async function startKeepalived(cfg: Config['keepalived'], stateDir: string): Promise<CommandResult> {
  const { command, timeout } = cfg.start;
  if (!command) return commandResult(false, { reason: 'keepalived.start has no command' });
  return runCommand({ command, timeout }, { stateDir, name: 'keepalived.start' });
}

export async function stopKeepalived(cfg: Config['keepalived'], pids: number[], stateDir: string): Promise<CommandResult> {
  if (cfg.stop?.command) return runCommand({ command: cfg.stop.command, timeout: cfg.stop.timeout }, { stateDir, name: 'keepalived.stop' });
  return signalMainPid(pids);
}

/** keepalived's main process is the one whose parent is not keepalived itself. */
export function mainPid(pids: number[]): number | undefined {
  return pids.find((p) => !pids.includes(readStat(p)?.ppid ?? -1)) ?? pids[0];
}

async function signalMainPid(pids: number[]): Promise<CommandResult> {
  const started = performance.now();
  const pid = mainPid(pids);
  const result = (ok: boolean, reason?: string): CommandResult => commandResult(ok, { reason, since: started });
  if (pid === undefined) return result(true, 'keepalived was not running');
  const startTime = readStat(pid)?.startTime;
  const gone = () => {
    const s = readStat(pid);
    return isDead(s) || s!.startTime !== startTime;
  };
  try {
    process.kill(pid, 'SIGTERM');
  } catch (e) {
    return gone() ? result(true) : result(false, `SIGTERM to keepalived pid ${pid}: ${(e as NodeJS.ErrnoException).code}`);
  }
  for (const deadline = Date.now() + TERM_WAIT_MS; Date.now() < deadline; ) {
    if (gone()) return result(true);
    await new Promise((r) => setTimeout(r, 100));
  }
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // exited between the check and the kill
  }
  return result(true, `keepalived pid ${pid} ignored SIGTERM for ${TERM_WAIT_MS} ms; sent SIGKILL`);
}
