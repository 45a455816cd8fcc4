// The event catalogue is the public list of names: README's "Log events" table, the
// notify lists the README shows and the JSON Schema must say the same.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { DEFAULT_NOTIFY_EVENTS, EVENTS, NOTIFY_EVENTS, actionEvent, type EventName } from '../../src/catalogue/events.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

/** README's "Log events" table: event name -> the level(s) its row gives. */
function readmeTable(): Map<string, string[]> {
  const section = readme.slice(readme.indexOf('## Log events'), readme.indexOf('\n## ', readme.indexOf('## Log events') + 5));
  const rows = new Map<string, string[]>();
  for (const line of section.split('\n')) {
    const m = /^\| (`[^|]+`) \| ([^|]+) \|/.exec(line);
    if (!m) continue;
    const names = [...m[1]!.matchAll(/`([^`]+)`/g)].map((x) => x[1]!);
    const levels = m[2]!.trim().split(/\s*,\s*/);
    names.forEach((n, i) => {
      assert.ok(!rows.has(n), `README lists ${n} twice`);
      // "info, warn" for two names: one level each; "error/warn" for one name: both.
      rows.set(n, (levels.length === names.length ? levels[i]! : levels[0]!).split('/'));
    });
  }
  return rows;
}

describe('event catalogue', () => {
  it("README's Log events table lists exactly the catalogue's events, at the catalogue's levels", () => {
    const table = readmeTable();
    const names = Object.keys(EVENTS);
    assert.deepEqual([...table.keys()].filter((n) => !names.includes(n)), [], 'in the README, not in src/catalogue/events.ts');
    assert.deepEqual(names.filter((n) => !table.has(n)), [], 'in src/catalogue/events.ts, not in the README');
    for (const [name, spec] of Object.entries(EVENTS)) {
      const want = (Array.isArray(spec.level) ? spec.level : [spec.level]) as string[];
      assert.deepEqual(table.get(name), want, `level of ${name}`);
    }
  });

  it("README's notify section shows the catalogue's default list and every notifiable event", () => {
    const def = /^ {2}events: \[([^\]]+)\]\s+# the default$/m.exec(readme);
    assert.ok(def, 'README: the notify example with "# the default"');
    assert.deepEqual(def[1]!.split(/,\s*/), DEFAULT_NOTIFY_EVENTS);
    const any = /^\| `notify\.events` \| see above \| any of `([^`]+)` \|$/m.exec(readme);
    assert.ok(any, 'README: the notify.events row');
    assert.deepEqual(any[1]!.split(' '), NOTIFY_EVENTS);
  });

  it('the JSON Schema offers exactly the notifiable events', () => {
    const schema = JSON.parse(readFileSync(new URL('../../contrib/watchdog.schema.json', import.meta.url), 'utf8'));
    assert.deepEqual(schema.properties.notify.properties.events.items.enum, NOTIFY_EVENTS);
  });

  it('every default notify event is notifiable; an action starting says its kind (a restart: restart.start)', () => {
    for (const e of DEFAULT_NOTIFY_EVENTS) assert.ok(NOTIFY_EVENTS.includes(e));
    const starts: EventName[] = [actionEvent('restart'), actionEvent('keepalived.stop'), actionEvent('vip.release')];
    assert.deepEqual(starts, ['restart.start', 'keepalived.stop', 'vip.release']);
  });
});
