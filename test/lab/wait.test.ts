// The one waitFor (lab/wait.ts, re-exported by test/helpers/wait.ts for the tests).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { waitFor } from '../helpers/wait.js';

describe('waitFor', () => {
  it('resolves with the first truthy value', async () => {
    let n = 0;
    const v = await waitFor(() => (++n >= 3 ? { n } : n > 10 && { n: -1 }), 2000, { intervalMs: 1 });
    assert.deepEqual(v, { n: 3 });
  });

  it('times out naming what it waited for, with the detail: a string as it is, else JSON', async () => {
    await assert.rejects(waitFor(() => 0, 30, { what: 'nothing', intervalMs: 5, detail: () => 'the log tail' }), {
      message: 'timed out after 30 ms waiting for nothing\nthe log tail',
    });
    await assert.rejects(waitFor(() => false, 10, { detail: async () => ({ last: ['a'] }) }), {
      message: 'timed out after 10 ms waiting for condition\n{\n "last": [\n  "a"\n ]\n}',
    });
  });

  it('counts an error of the predicate as "not yet" and reports the last one', async () => {
    let n = 0;
    assert.equal(await waitFor(() => { if (++n < 3) throw new Error(`early ${n}`); return 'ok'; }, 2000, { intervalMs: 1 }), 'ok');
    await assert.rejects(waitFor(() => { throw new Error('still broken'); }, 20, { what: 'x', intervalMs: 5 }), {
      message: 'timed out after 20 ms waiting for x (last error: still broken)',
    });
  });

  it("rejects at once with the predicate's error with onError: 'throw'", async () => {
    const t = Date.now();
    await assert.rejects(waitFor(() => { throw new Error('gave up'); }, 5000, { onError: 'throw' }), { message: 'gave up' });
    assert.ok(Date.now() - t < 1000);
  });

  it('polls every intervalMs and never sleeps past the deadline', async () => {
    let calls = 0;
    const t = Date.now();
    await assert.rejects(waitFor(() => { calls += 1; return undefined; }, 250, { intervalMs: 100 }));
    const took = Date.now() - t;
    assert.ok(calls >= 3 && calls <= 4, `${calls} calls`);
    assert.ok(took >= 250 && took < 400, `${took} ms`);
  });
});
