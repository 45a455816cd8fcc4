// keepalived.conf parsing for `doctor`, on files real keepalived accepts (keepalived -t).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parseConf } from '../../src/keepalived/conf.js';
import { keyedHash, summarize } from '../../src/keepalived/summary.js';
import { LAB_LIKE } from './fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'haw-kconf-'));
after(() => rmSync(dir, { recursive: true, force: true }));


/** keepalived itself says the file is valid (exit 0 from --config-test). */
function keepalivedAccepts(file: string): boolean {
  try {
    execFileSync('/usr/sbin/keepalived', ['--config-test', '-f', file], { stdio: 'pipe', timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}

describe('keepalived.conf: parsing', () => {
  it('the lab-like file: instance, VIPs, track_file and vrrp_script with file:line; real keepalived accepts it', () => {
    const f = join(dir, 'keepalived.conf');
    writeFileSync(f, LAB_LIKE());
    if (existsSync('/usr/sbin/keepalived') || process.env.CI === 'true') assert.ok(keepalivedAccepts(f), 'keepalived --config-test accepts the test file');
    const s = summarize(parseConf(f), 'aa'.repeat(8));
    assert.deepEqual(s.problems, []);
    const i = s.instances[0]!;
    assert.equal(i.name, 'VI_1');
    assert.deepEqual([i.virtualRouterId?.value, i.virtualRouterId?.line, i.virtualRouterId?.file], [51, 21, f]);
    assert.deepEqual([i.priority.value, i.advertInt?.value, i.state?.value], [150, 1, 'MASTER']);
    assert.deepEqual(i.vips.map((v) => v.value), ['192.168.56.70/24']);
    assert.deepEqual(i.trackFiles.map((t) => [t.value, t.weight]), [['ha_watchdog', undefined]]);
    assert.deepEqual(s.trackFiles.map((t) => [t.name, t.path, t.weight]), [['ha_watchdog', '/run/ha-watchdog/keepalived.track', 0]]);
    assert.deepEqual(s.scripts.map((x) => [x.name, x.weight]), [['chk_tomcat', 0]]);
    assert.equal(i.authHash?.value, keyedHash('aa'.repeat(8), 'halab'));
    assert.ok(!JSON.stringify(s).includes('halab'), 'the password itself is nowhere in the summary');
  });

  it('include with a glob, relative to the including file; each value keeps the file it came from', () => {
    const d = join(dir, 'inc');
    mkdirSync(join(d, 'conf.d'), { recursive: true });
    writeFileSync(join(d, 'keepalived.conf'), 'global_defs {\n  vrrp_version 3\n}\ninclude conf.d/*.conf\n');
    writeFileSync(join(d, 'conf.d', 'b.conf'), 'vrrp_instance VI_B {\n  virtual_router_id 52\n  virtual_ipaddress {\n    10.0.0.2\n  }\n}\n');
    writeFileSync(join(d, 'conf.d', 'a.conf'), 'vrrp_instance VI_A {\n  virtual_router_id 51\n  virtual_ipaddress {\n    10.0.0.1\n  }\n}\n');
    writeFileSync(join(d, 'conf.d', 'skip.txt'), 'vrrp_instance NOPE {\n}\n');
    const s = summarize(parseConf(join(d, 'keepalived.conf')), 'bb'.repeat(8));
    assert.deepEqual(s.instances.map((i) => i.name), ['VI_A', 'VI_B'], 'sorted like glob(3)');
    assert.equal(s.instances[1]!.virtualRouterId?.file, join(d, 'conf.d', 'b.conf'));
    assert.equal(s.instances[1]!.virtualRouterId?.line, 2);
    assert.equal(s.vrrpVersion?.value, 3);
    assert.equal(s.files.length, 3);
  });

  it('a brace never closed, a stray one, an include that cannot be read -> problems with file:line', () => {
    const f = join(dir, 'broken.conf');
    writeFileSync(f, 'vrrp_instance VI_1 {\n  virtual_router_id 51\n}\n}\ninclude /nonexistent/x.conf\nvrrp_instance VI_2 {\n  priority 1\n');
    const p = parseConf(f).problems.map((x) => `${x.line}: ${x.message}`);
    assert.deepEqual(p, ['5: cannot read /nonexistent/x.conf: ENOENT', '4: unexpected "}"', '6: this "{" is never closed']);
  });

  it('comments (! and #), quoted words and a block opened on the next line', () => {
    const f = join(dir, 'style.conf');
    writeFileSync(f, '# comment\nvrrp_instance VI_1   ! trailing\n{\n  priority 90 # low\n  virtual_ipaddress {\n    "192.168.1.1/24"\n  }\n}\n');
    const s = summarize(parseConf(f), 'cc'.repeat(8));
    assert.deepEqual(s.problems, []);
    assert.equal(s.instances[0]!.priority.value, 90);
    assert.deepEqual(s.instances[0]!.vips.map((v) => v.value), ['192.168.1.1/24']);
  });

  it('an include loop reads each file once', () => {
    const a = join(dir, 'loop-a.conf');
    const b = join(dir, 'loop-b.conf');
    writeFileSync(a, `include ${b}\nvrrp_instance A {\n}\n`);
    writeFileSync(b, `include ${a}\nvrrp_instance B {\n}\n`);
    const p = parseConf(a);
    assert.deepEqual(p.files, [a, b]);
    assert.equal(summarize(p, 'dd'.repeat(8)).instances.length, 2);
  });
});
