// What the config tests share: a keepalived section that validates, and the problems
// a config text has (each line of the ConfigError's message).
import assert from 'node:assert/strict';
import { ConfigError } from '../../src/config/errors.js';
import { parseConfig } from '../../src/config/load.js';

export const KEEPALIVED = 'keepalived:\n  start: { command: [/usr/bin/systemctl, start, keepalived] }\n';

/** The problem lines of a config that must not validate (fails the test if it does). */
export function problems(text: string): string[] {
  try {
    parseConfig(text, 'w.yaml');
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return e.message.split('\n');
  }
  assert.fail('expected a ConfigError');
}
