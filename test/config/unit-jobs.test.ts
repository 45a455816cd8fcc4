// restart.unit, keepalived.start.unit, keepalived.stop.unit: a systemd job instead of a
// command, exactly one of the two, each mistake named with file:line:column and key.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from '../../src/config/load.js';
import { effectiveConfig } from '../../src/config/print.js';
import { KEEPALIVED, problems } from '../helpers/config.js';

const withRestart = (restart: string, keepalived = KEEPALIVED) => `services:\n  tomcat:\n    process: { name: java }\n    restart: ${restart}\n${keepalived}`;


describe('config: systemd unit jobs (restart.unit, keepalived start/stop unit)', () => {
  it('restart.unit: a restart job, with the restart defaults; no command', () => {
    const c = parseConfig(withRestart('{ unit: tomcat10.service, timeout: 30s }'), 'w.yaml');
    const r = c.services.tomcat!.restart!;
    assert.equal(r.unit, 'tomcat10.service');
    assert.equal(r.command, undefined);
    assert.deepEqual([r.timeout, r.grace, r.attempts], [30_000, 90_000, 1]);
  });

  it('restart.unit takes diagnose commands like restart.command', () => {
    const c = parseConfig(withRestart('{ unit: tomcat10.service, diagnose: [{ command: [/usr/bin/jcmd, "{pid}", Thread.print] }] }'), 'w.yaml');
    assert.deepEqual(c.services.tomcat!.restart!.diagnose, [{ command: ['/usr/bin/jcmd', '{pid}', 'Thread.print'], timeout: 10_000 }]);
  });

  it('both command and unit: refused, naming restart.unit with its line and column', () => {
    const p = problems(withRestart('{ command: [/usr/bin/systemctl, restart, tomcat10], unit: tomcat10.service }'));
    assert.deepEqual(p, ['w.yaml:4:72: services.tomcat.restart.unit: give either command (a program to run) or unit (a systemd restart job), not both']);
  });

  it('neither: refused, naming restart and both ways', () => {
    const p = problems(withRestart('{ timeout: 30s }'));
    assert.equal(p.length, 1);
    assert.match(p[0]!, /^w\.yaml:4:14: services\.tomcat\.restart: expected command: \[\.\.\.\] \(argv, e\.g\. \[\/usr\/bin\/systemctl, restart, tomcat10\]\) or unit: <name>\.service \(a systemd restart job over D-Bus\), got neither$/);
  });

  it('a unit name must be a full service name: a bare name gets a hint; scopes, paths and shell text are refused', () => {
    assert.deepEqual(problems(withRestart('{ unit: tomcat10 }')), ['w.yaml:4:22: services.tomcat.restart.unit: expected a systemd service unit name, e.g. tomcat10.service, got "tomcat10"; did you mean tomcat10.service?']);
    for (const bad of ['session-1.scope', '/etc/systemd/system/tomcat10.service', '"tomcat10.service; reboot"', 'multi-user.target']) {
      const p = problems(withRestart(`{ unit: ${bad} }`));
      assert.equal(p.length, 1, bad);
      assert.match(p[0]!, /^w\.yaml:4:\d+: services\.tomcat\.restart\.unit: expected a systemd service unit name, e.g\. tomcat10\.service, got /, bad);
      assert.doesNotMatch(p[0]!, /did you mean/, bad);
    }
    assert.match(problems(withRestart('{ unit: [tomcat10.service] }'))[0]!, /services\.tomcat\.restart\.unit: expected a systemd service unit name, e\.g\. tomcat10\.service, got a list/);
    // Template instances are units too.
    assert.equal(parseConfig(withRestart('{ unit: "tomcat@main.service" }'), 'w.yaml').services.tomcat!.restart!.unit, 'tomcat@main.service');
  });

  it('keepalived.start / keepalived.stop: a unit instead of a command, same rules', () => {
    const c = parseConfig(withRestart('{ unit: tomcat10.service }', 'keepalived:\n  start: { unit: keepalived.service, timeout: 30s }\n  stop: { unit: keepalived.service }\n'), 'w.yaml');
    assert.deepEqual(c.keepalived.start, { unit: 'keepalived.service', timeout: 30_000 });
    assert.deepEqual(c.keepalived.stop, { unit: 'keepalived.service', timeout: 60_000 });
    const both = problems(withRestart('{ unit: tomcat10.service }', 'keepalived:\n  start: { command: [/usr/bin/systemctl, start, keepalived], unit: keepalived.service }\n'));
    assert.deepEqual(both, ['w.yaml:6:68: keepalived.start.unit: give either command (a program to run) or unit (a systemd start job), not both']);
    const neither = problems(withRestart('{ unit: tomcat10.service }', 'keepalived:\n  start: { command: [/usr/bin/systemctl, start, keepalived] }\n  stop: { timeout: 10s }\n'));
    assert.equal(neither.length, 1);
    assert.match(neither[0]!, /^w\.yaml:7:9: keepalived\.stop: expected command: \[\.\.\.\] \(argv, e\.g\. \[\/usr\/bin\/systemctl, stop, tomcat10\]\) or unit: <name>\.service \(a systemd stop job over D-Bus\), got neither$/);
    // Without stop, the default stays SIGTERM to keepalived's main pid.
    assert.equal(parseConfig(withRestart('{ unit: tomcat10.service }', 'keepalived:\n  start: { unit: keepalived.service }\n'), 'w.yaml').keepalived.stop, undefined);
  });

  it('an unknown key next to unit lists unit among the expected keys', () => {
    const p = problems(withRestart('{ unit: tomcat10.service, units: x }'));
    assert.match(p.join('\n'), /services\.tomcat\.restart\.units: unknown key "units"; expected one of: command, unit, timeout, grace, attempts, diagnose/);
  });

  it('validate --print shows the unit, not a command', () => {
    const c = parseConfig(withRestart('{ unit: tomcat10.service }', 'keepalived:\n  start: { unit: keepalived.service }\n  stop: { unit: keepalived.service }\n'), 'w.yaml');
    const e = effectiveConfig(c) as { services: Record<string, { restart: unknown }>; keepalived: { start: unknown; stop: unknown } };
    assert.deepEqual(e.services.tomcat!.restart, { unit: 'tomcat10.service', timeout: '1m', grace: '90s', attempts: 1 });
    assert.deepEqual(e.keepalived.start, { unit: 'keepalived.service', timeout: '1m' });
    assert.deepEqual(e.keepalived.stop, { unit: 'keepalived.service', timeout: '1m' });
  });
});
