// This same program run again as a short-lived helper of the daemon, which keeps what
// only the helper needs (the config stack: yaml, zod, the schemas) out of the
// long-running process. The program is the node binary with its flags and the entry
// script (`node dist/cli.js`, `node --import tsx src/cli.ts`), or the single executable
// alone (its script is inside it, and process.argv[1] is the executable itself).
import { isSea } from 'node:sea';
import { childJson, type ChildJson, type ChildJsonOptions } from './child-json.js';

export interface SelfCommand {
  file: string;
  /** What goes before the program's own arguments. */
  args: string[];
}

/** Node's debugging flags would make the helper open a second inspector port. */
const DEBUG_FLAG = /^--(inspect|debug)/;

/** How to run this program again; only the entry script (src/cli.ts) knows it is the program. */
export function selfCommand(): SelfCommand {
  if (isSea()) return { file: process.execPath, args: [] };
  // A script run by node always has its path in argv[1].
  return { file: process.execPath, args: [...process.execArgv.filter((f) => !DEBUG_FLAG.test(f)), process.argv[1]!] };
}

/**
 * The helper's environment: the daemon's, without what systemd gave the daemon alone
 * (NotifyAccess=main would refuse the helper's messages anyway; its watchdog is the daemon's).
 */
function helperEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out = { ...env };
  for (const k of ['NOTIFY_SOCKET', 'WATCHDOG_USEC', 'WATCHDOG_PID', 'LISTEN_FDS', 'LISTEN_PID', 'LISTEN_FDNAMES']) delete out[k];
  return out;
}

/** Runs `ha-watchdog ARGS...` and takes the JSON value it prints. */
export function askSelf(self: SelfCommand, args: string[], o: Omit<ChildJsonOptions, 'env'>): Promise<ChildJson> {
  return childJson(self.file, [...self.args, ...args], { ...o, env: helperEnv(process.env) });
}
