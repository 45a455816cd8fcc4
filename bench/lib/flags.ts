// V8 flags `ha-watchdog run` sets for itself (v8.setFlagsFromString in cli.ts, e.g.
// --optimize-for-size). Workers that drive the Agent directly pass the same flags on
// their command line, so they run the agent as the daemon does.
import { readFileSync } from 'node:fs';
import { CLI } from './paths.js';

export function daemonFlags(): string[] {
  let cli = '';
  try {
    cli = readFileSync(CLI, 'utf8');
  } catch {
    return [];
  }
  return [...cli.matchAll(/setFlagsFromString\(\s*['"]([^'"]+)['"]\s*\)/g)].flatMap((m) => m[1]!.split(/\s+/)).filter(Boolean);
}
