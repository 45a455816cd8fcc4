// pids.json, checked by hand (no schema library in the daemon): the shapes the agent
// writes load back; anything else is an empty cache.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { knownPids, loadPids, pidsFile, savePids } from '../../src/agent/pids-file.js';

describe('agent: pids.json', () => {
  it('what savePids writes loads back; unknown keys are dropped', () => {
    const d = mkdtempSync(join(tmpdir(), 'haw-pids-'));
    const pids = { tomcat: { match: 'java\u0000Bootstrap', pids: [{ pid: 1, startTime: 2 }, { pid: 30, startTime: 4.5, child: true as const }] }, keepalived: { match: 'k', pids: [] } };
    savePids(d, pids);
    assert.deepStrictEqual(loadPids(d), pids);
    writeFileSync(pidsFile(d), JSON.stringify({ tomcat: { match: 'm', extra: 1, pids: [{ pid: 1, startTime: 2, x: 3 }] } }));
    assert.deepStrictEqual(loadPids(d), { tomcat: { match: 'm', pids: [{ pid: 1, startTime: 2 }] } });
    rmSync(d, { recursive: true });
  });

  for (const [what, raw] of [
    ['a list', []],
    ['null', null],
    ['pids not a list', { tomcat: { match: 'm', pids: 'x' } }],
    ['no match', { tomcat: { pids: [] } }],
    ['a pid not a whole number', { tomcat: { match: 'm', pids: [{ pid: 1.5, startTime: 2 }] } }],
    ['a start time not a number', { tomcat: { match: 'm', pids: [{ pid: 1, startTime: '2' }] } }],
    ['child not true', { tomcat: { match: 'm', pids: [{ pid: 1, startTime: 2, child: 'yes' }] } }],
    ['an empty service name', { '': { match: 'm', pids: [] } }],
    ['"constructor" as a service name', { constructor: { match: 'm', pids: [] } }],
    ['too many pids', { tomcat: { match: 'm', pids: Array.from({ length: 4097 }, (_, i) => ({ pid: i, startTime: 1 })) } }],
    ['a match over 64 KiB', { tomcat: { match: 'x'.repeat(65537), pids: [] } }],
  ] as const) {
    it(`${what}: not a cache`, () => assert.equal(knownPids(raw), undefined));
  }

  it('"__proto__" as a service name (as JSON.parse makes it): not a cache', () => {
    assert.equal(knownPids(JSON.parse('{"__proto__":{"match":"m","pids":[]}}')), undefined);
  });
});
