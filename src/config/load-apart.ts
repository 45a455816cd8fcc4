// The daemon's config, read by a short-lived helper: this same program run as
// `ha-watchdog __config -c FILE` (src/config/load-reply.ts) loads the YAML and checks it
// against the schema, and prints the result as JSON. The YAML parser, zod and the schema
// (about 8 MB of the daemon's memory) live only in the helper, for a moment, at start
// and at each reload; the daemon gets the same normalised Config (plain data: durations
// in ms, regexes as their source, compiled where they are used) or the same problems,
// each naming file:line:column and key, as `validate` prints them.
import { ConfigError, type ConfigProblem } from './errors.js';
import type { Config } from './load.js';
import { askSelf, type SelfCommand } from '../os/self.js';

/** What the helper prints. */
export type ConfigReply = { ok: true; config: Config } | { ok: false; problems: ConfigProblem[] } | { ok: false; error: string };

/** A problem of the file (ConfigProblem), or of reading it at all ({ message }). */
export type LoadProblem = ConfigProblem | { message: string };

export type ConfigLoad = { ok: true; config: Config } | { ok: false; problems: LoadProblem[]; message: string };

/** The helper's whole run: a slow disk or a loaded host, never an endless wait. */
export const CONFIG_HELPER_TIMEOUT_MS = 30_000;
/** The config file is at most 1 MiB; its normalised JSON is of the same order. */
const MAX_REPLY_BYTES = 32 * 1024 * 1024;

/** `self`: how to run this program (src/os/self.ts). */
export async function loadConfigApart(self: SelfCommand, file: string): Promise<ConfigLoad> {
  const r = await askSelf(self, ['__config', '-c', file], { what: 'the config reader', timeoutMs: CONFIG_HELPER_TIMEOUT_MS, maxBytes: MAX_REPLY_BYTES });
  if (!r.ok) return failed(`${file}: ${r.reason}`);
  const reply = r.value as Partial<{ ok: boolean; config: unknown; problems: unknown; error: unknown }> | null;
  if (reply?.ok === true && typeof reply.config === 'object' && reply.config !== null) return { ok: true, config: reply.config as Config };
  if (reply?.ok === false && Array.isArray(reply.problems)) {
    const problems = reply.problems as ConfigProblem[];
    return { ok: false, problems, message: new ConfigError(problems).message };
  }
  if (reply?.ok === false && typeof reply.error === 'string') return failed(reply.error);
  return failed(`${file}: the config reader's answer has an unexpected shape`);
}

function failed(message: string): ConfigLoad {
  return { ok: false, problems: [{ message }], message };
}
