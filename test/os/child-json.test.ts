// childJson: a real child process's one JSON answer, or why not, never a throw.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { childJson } from '../../src/os/child-json.js';

const node = (script: string, o: { timeoutMs?: number; maxBytes?: number } = {}) =>
  childJson(process.execPath, ['-e', script], { what: 'the test helper', timeoutMs: o.timeoutMs ?? 10_000, maxBytes: o.maxBytes ?? 1 << 20 });

describe('os: childJson', () => {
  it('takes the JSON value the child prints', async () => {
    assert.deepEqual(await node('process.stdout.write(JSON.stringify({ ok: true, n: [1, 2] }))'), { ok: true, value: { ok: true, n: [1, 2] } });
  });

  it('a child that fails: its exit code and the end of its stderr', async () => {
    const r = await node('process.stderr.write("cannot do it\\n"); process.exit(3)');
    assert.equal(r.ok, false);
    assert.match(r.ok ? '' : r.reason, /^the test helper \(pid \d+\) failed: exit code 3: cannot do it$/);
  });

  it('a child that prints no JSON', async () => {
    const r = await node('process.stdout.write("hello")');
    assert.match(r.ok ? '' : r.reason, /^the test helper \(pid \d+\) printed no JSON answer \(5 bytes\)$/);
  });

  it('a child that hangs is killed at the deadline', async () => {
    const t0 = Date.now();
    const r = await node('setInterval(() => {}, 1000)', { timeoutMs: 300 });
    assert.match(r.ok ? '' : r.reason, /^the test helper \(pid \d+\) gave no answer within 300 ms \(killed\)$/);
    assert.ok(Date.now() - t0 < 5000);
  });

  it('a child that prints too much is killed', async () => {
    const r = await node('const s = "x".repeat(65536); setInterval(() => process.stdout.write(s), 1)', { maxBytes: 100_000 });
    assert.match(r.ok ? '' : r.reason, /^the test helper \(pid \d+\) printed more than 100000 bytes \(killed\)$/);
  });

  it('a program that does not exist', async () => {
    const r = await childJson('/nonexistent/ha-watchdog', [], { what: 'the test helper', timeoutMs: 1000, maxBytes: 1000 });
    assert.match(r.ok ? '' : r.reason, /^the test helper \(pid -\) could not start: spawn \/nonexistent\/ha-watchdog ENOENT$/);
  });
});
