// The HTTP probe's timeout bounds the TCP connect too (undici's own connect timeout is
// 10 s and ignores the abort signal). An address on a link where nobody answers ARP,
// inside a network namespace this test creates, never answers the SYN.
import assert from 'node:assert/strict';
import { execFileSync, execFile } from 'node:child_process';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { requireRoot } from '../helpers/prereq.js';

const skip = requireRoot();
const ns = `haw-probe-${process.pid}`;

describe('probes: http connect bounded by timeout', { skip }, () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'haw-connect-'));
    const ip = (...a: string[]) => execFileSync('ip', ['-n', ns, ...a]);
    execFileSync('ip', ['netns', 'add', ns]);
    ip('link', 'set', 'lo', 'up');
    ip('link', 'add', 'v0', 'type', 'veth', 'peer', 'name', 'v1');
    ip('addr', 'add', '10.77.0.1/24', 'dev', 'v0');
    ip('link', 'set', 'v0', 'up');
    ip('link', 'set', 'v1', 'up'); // up, no address: 10.77.0.2 never answers ARP
  });
  after(() => {
    try {
      execFileSync('ip', ['netns', 'del', ns]);
    } catch {
      // already gone
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('a SYN that is never answered fails at the probe timeout, not undici\'s 10 s', async () => {
    const src = fileURLToPath(new URL('../../src/probes/http.ts', import.meta.url));
    const script = join(dir, 'probe.mts');
    writeFileSync(
      script,
      `import { HttpProbe } from ${JSON.stringify(src)};
const p = new HttpProbe({ url: 'http://10.77.0.2/', timeout: 400, tlsVerify: true });
const t = performance.now();
const r = await p.check();
console.log(JSON.stringify({ ...r, took: performance.now() - t }));
process.exit(0);`,
    );
    const tsx = fileURLToPath(new URL('../../node_modules/.bin/tsx', import.meta.url));
    const out = await new Promise<string>((res, rej) => execFile('ip', ['netns', 'exec', ns, tsx, script], (e, o, se) => (e ? rej(new Error(se)) : res(o))));
    const r = JSON.parse(out.trim().split('\n').at(-1)!);
    assert.equal(r.ok, false);
    assert.match(r.reason, /no complete answer within 400 ms/);
    assert.ok(r.took < 2500, `took ${r.took} ms`); // bounded by the timeout, not 3 s ARP or 10 s connect
  });
});
