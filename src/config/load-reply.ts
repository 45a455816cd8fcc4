// The helper's side of src/config/load-apart.ts (`ha-watchdog __config -c FILE`): the
// config loaded and checked as `validate` does, as one JSON value on stdout.
import { ConfigError } from './errors.js';
import type { ConfigReply } from './load-apart.js';
import { loadConfig } from './load.js';

export function configReply(file: string): ConfigReply {
  try {
    return { ok: true, config: loadConfig(file) };
  } catch (e) {
    if (e instanceof ConfigError) return { ok: false, problems: e.problems };
    return { ok: false, error: (e as Error).message };
  }
}
