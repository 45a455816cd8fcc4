// loadConfigApart: the daemon's config read by a real helper process (the built CLI's
// `__config`), from real files: the same Config as loadConfig in-process, the same
// problems and messages, and a helper that fails is a problem naming the file.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ConfigError } from '../../src/config/errors.js';
import { loadConfigApart } from '../../src/config/load-apart.js';
import { loadConfig } from '../../src/config/load.js';
import type { SelfCommand } from '../../src/os/self.js';
import { CLI } from '../helpers/stage.js';

const self: SelfCommand = { file: process.execPath, args: [CLI] };
const dir = mkdtempSync(join(tmpdir(), 'haw-load-apart-'));
after(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
function file(text: string): string {
  const f = join(dir, `w${n++}.yaml`);
  writeFileSync(f, text, { mode: 0o644 });
  return f;
}

/** Every kind of value the schema makes: durations, regexes, tcp in both forms, defaults, notify, peer, metrics. */
const FULL = `interval: 3s
stateDir: ${dir}/state
services:
  tomcat:
    process: { name: java, args: 'org\\.apache\\.catalina\\.startup\\.Bootstrap', unit: tomcat10.service }
    http: { url: 'http://127.0.0.1:8080/health', timeout: 700ms, expectStatus: [200, 204], bodyMatches: '(?i)ok', digest: 0123456789ABCDEF0123456789abcdef, tlsVerify: false }
    fall: 3
    restart:
      command: [/usr/bin/systemctl, restart, tomcat10]
      timeout: 2m
      diagnose: [{ command: [/usr/bin/jcmd, '{pid}', Thread.print] }]
  nginx:
    critical: false
    tcp: '[::1]:80'
  ajp:
    tcp: { address: '127.0.0.1:8009', timeout: 1.5 }
keepalived:
  start: { command: [/usr/bin/systemctl, start, keepalived] }
  stop: { command: [/usr/bin/systemctl, stop, keepalived], timeout: 20s }
  vip: { url: 'http://192.0.2.10/' }
failover: { order: handover-first }
peer: { url: 'http://192.0.2.12:9120/healthz' }
metrics: { listen: '127.0.0.1:9120' }
notify:
  webhook: { url: 'https://hooks.example/x' }
  command: { command: [/usr/local/bin/page] }
`;

describe('config: loadConfigApart (a helper process)', () => {
  it('gives exactly the Config loadConfig gives, warnings included', async () => {
    for (const f of [file(FULL), new URL('../../watchdog.yaml', import.meta.url).pathname]) {
      const r = await loadConfigApart(self, f);
      assert.ok(r.ok, r.ok ? '' : r.message);
      assert.deepStrictEqual(r.config, loadConfig(f));
    }
  });

  it('an invalid config: the same problems, the same message (file:line:column: key: what)', async () => {
    const f = file('interval: 7s\nservices:\n  tomcat:\n    process: { name: java, colour: red }\nkeepalived:\n  start: { command: [/usr/bin/true] }\nbogus: 1\n');
    const r = await loadConfigApart(self, f);
    assert.equal(r.ok, false);
    let expected: ConfigError | undefined;
    try {
      loadConfig(f);
    } catch (e) {
      expected = e as ConfigError;
    }
    assert.ok(expected instanceof ConfigError);
    assert.deepStrictEqual(r.ok ? [] : r.problems, expected.problems);
    assert.equal(r.ok ? '' : r.message, expected.message);
    assert.match(expected.message, new RegExp(`${f.replace(/\./g, '\\.')}:7:1: bogus: unknown key "bogus"`));
  });

  it('a missing file: the reader\'s problem, as loadConfig throws it', async () => {
    const f = join(dir, 'missing.yaml');
    const r = await loadConfigApart(self, f);
    assert.equal(r.ok, false);
    assert.throws(() => loadConfig(f), (e: Error) => e.message === (r.ok ? '' : r.message));
  });

  it('a helper that fails is a problem naming the file and the helper, never a throw', async () => {
    const broken: SelfCommand = { file: process.execPath, args: ['-e', 'process.stderr.write("boom\\n"); process.exit(3)', '--'] };
    const f = file(FULL);
    const r = await loadConfigApart(broken, f);
    assert.equal(r.ok, false);
    assert.match(r.ok ? '' : r.message, new RegExp(`^${f.replace(/\./g, '\\.')}: the config reader \\(pid \\d+\\) failed: exit code 3: boom$`));
    assert.deepEqual(r.ok ? [] : r.problems, [{ message: r.ok ? '' : r.message }]);
  });
});
