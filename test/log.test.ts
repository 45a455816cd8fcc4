// JSON lines; under systemd (JOURNAL_STREAM) each line carries its syslog priority.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLogger } from '../src/log.js';

describe('log', () => {
  const capture = (env: NodeJS.ProcessEnv) => {
    const lines: string[] = [];
    const log = createLogger({ level: 'debug', env, write: (l) => void lines.push(l) });
    log.error({ event: 'restart.failed', service: 'tomcat' }, 'e');
    log.warn({ event: 'service.down' }, 'w');
    log.info({ event: 'service.up' }, 'i');
    log.debug({ event: 'poll' }, 'd');
    return lines;
  };

  it('one JSON object per line with level label, time, event and msg', () => {
    const lines = capture({});
    assert.equal(lines.length, 4);
    const first = JSON.parse(lines[0]!);
    assert.equal(first.level, 'error');
    assert.equal(first.event, 'restart.failed');
    assert.equal(first.service, 'tomcat');
    assert.match(first.time, /^\d{4}-\d\d-\d\dT/);
    assert.ok(lines.every((l) => l.startsWith('{') && l.endsWith('}\n')));
  });

  it('under systemd: <3> error, <4> warning, <6> info, <7> debug, then the pure JSON', () => {
    const lines = capture({ JOURNAL_STREAM: '8:1234' });
    assert.deepEqual(lines.map((l) => l.slice(0, 3)), ['<3>', '<4>', '<6>', '<7>']);
    for (const l of lines) JSON.parse(l.slice(3));
  });
});
