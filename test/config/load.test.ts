// Config errors name file:line:column, the key path and what was expected.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError } from '../../src/config/errors.js';
import { loadConfig, parseConfig } from '../../src/config/load.js';
import { configWarnings } from '../../src/config/warnings.js';
import { KEEPALIVED, problems } from '../helpers/config.js';

const minimal = `services:\n  tomcat:\n    process: { name: java }\n${KEEPALIVED}`;


describe('config: parseConfig', () => {
  it('a minimal config gets the documented defaults', () => {
    const c = parseConfig(minimal, 'w.yaml');
    assert.equal(c.interval, 1000);
    assert.equal(c.stateDir, '/var/lib/ha-watchdog');
    const t = c.services.tomcat!;
    assert.deepEqual([t.critical, t.fall, t.rise, t.retryDelay, t.restart], [true, 2, 2, 100, undefined]);
    assert.equal(c.failover.order, 'auto');
    assert.deepEqual(c.keepalived.process, { name: 'keepalived', namespace: 'own' });
    assert.equal(c.keepalived.stop, undefined);
  });

  it('the shipped watchdog.yaml is valid', () => {
    const c = loadConfig(new URL('../../watchdog.yaml', import.meta.url).pathname, { asRoot: false });
    assert.deepEqual(Object.keys(c.services), ['tomcat', 'nginx']);
    // Debian's units, restarted, started and stopped as systemd jobs.
    assert.deepEqual([c.services.tomcat!.restart!.unit, c.services.nginx!.restart!.unit, c.keepalived.start.unit, c.keepalived.stop?.unit], ['tomcat10.service', 'nginx.service', 'keepalived.service', 'keepalived.service']);
  });

  it('the shipped watchdog.yaml runs on the defaults: every timing it spells out is the default (what the lab measures "as shipped")', () => {
    const shipped = loadConfig(new URL('../../watchdog.yaml', import.meta.url).pathname, { asRoot: false });
    const d = parseConfig(minimal, 'w.yaml');
    const dt = d.services.tomcat!;
    assert.equal(shipped.interval, d.interval);
    assert.deepEqual(shipped.failover, d.failover);
    for (const [name, s] of Object.entries(shipped.services)) {
      assert.deepEqual([s.fall, s.rise, s.retryDelay, s.http?.timeout], [dt.fall, dt.rise, dt.retryDelay, 500], name);
    }
  });
  it('the HTTP probe and the VIP get their own default timeouts; retryDelay is a duration', () => {
    const c = parseConfig(minimal.replace('keepalived:\n', 'keepalived:\n  vip: { url: "http://10.0.0.9/" }\n').replace('services:\n  tomcat:\n', 'services:\n  tomcat:\n    http: { url: "http://127.0.0.1:8080/" }\n    retryDelay: 250ms\n'), 'w.yaml');
    assert.equal(c.services.tomcat!.http!.timeout, 500);
    assert.equal(c.services.tomcat!.retryDelay, 250);
    assert.equal(c.keepalived.vip!.timeout, 1000);
  });

  const cases: Array<[string, string, RegExp]> = [
    ['unknown top-level key', `colour: blue\n${minimal}`, /^w\.yaml:1:1: colour: unknown key "colour"; expected one of: interval, stateDir, services, keepalived, failover, metrics, notify, peer$/],
    ['unknown failover order', `failover: { order: fastest }\n${minimal}`, /^w\.yaml:1:20: failover\.order: expected one of auto, restart-first, handover-first, got "fastest"$/],
    ['unknown keepalived control', minimal.replace('keepalived:\n', 'keepalived:\n  control: kill\n'), /^w\.yaml:5:12: keepalived\.control: expected one of stop, track-file, got "kill"$/],
    ['metrics listen without a port', `metrics: { listen: localhost }\n${minimal}`, /^w\.yaml:1:20: metrics\.listen: expected "host:port"/],
    ['notify with no destination', `notify: { events: [failover] }\n${minimal}`, /^w\.yaml:1:9: notify: notify needs a webhook, a command, or both$/],
    ['notify unknown event', `notify: { command: { command: [/bin/true] }, events: [tomcat.sad] }\n${minimal}`, /notify\.events\.0: unknown event "tomcat\.sad"; expected one of: service\.down/],
    ['notify command as a string', `notify: { command: { command: "mail -s x root" } }\n${minimal}`, /notify\.command\.command: expected a list of words \(argv\)/],
    ['peer url not http', `peer: { url: "tcp://10.0.0.2:9120" }\n${minimal}`, /^w\.yaml:1:14: peer\.url: expected an http:\/\/ or https:\/\/ URL/],
    ['unknown nested key', minimal.replace('{ name: java }', '{ name: java, argz: x }'), /^w\.yaml:3:28: services\.tomcat\.process\.argz: unknown key "argz"; expected one of: name, args, pidfile, namespace, unit$/],
    ['interval cron cannot hit', `interval: 7s\n${minimal}`, /^w\.yaml:1:11: interval: .*cannot hit 7000 ms evenly; use one of: 1s, 2s, 3s, 4s, 5s, 6s, 10s, 12s, 15s, 20s, 30s, 1m/],
    ['sub-second interval', `interval: 500ms\n${minimal}`, /interval: node-cron polls on whole seconds and cannot hit 500 ms/],
    ['bad duration', minimal.replace('{ name: java }', '{ name: java }\n    http: { url: "http://x/", timeout: soon }'), /^w\.yaml:4:40: services\.tomcat\.http\.timeout: expected a duration like "500ms", "3s", "2m", "1h" or a number of seconds, got "soon"$/],
    ['bad regex', minimal.replace('{ name: java }', "{ name: java, args: '(x' }"), /^w\.yaml:3:34: services\.tomcat\.process\.args: invalid regular expression \(RE2 syntax\): missing closing \): `\(x`$/],
    ['bad URL', minimal.replace('{ name: java }', '{ name: java }\n    http: { url: "ftp://x/" }'), /services\.tomcat\.http\.url: expected an http:\/\/ or https:\/\/ URL, got "ftp:\/\/x\/"$/],
    ['wrong type', minimal.replace('{ name: java }', '{ name: java }\n    fall: two'), /^w\.yaml:4:11: services\.tomcat\.fall: expected a whole number from 1 to 100, got "two"$/],
    ['command as a shell string', minimal.replace('{ name: java }', '{ name: java }\n    restart: { command: "systemctl restart tomcat10" }'), /services\.tomcat\.restart\.command: expected a list of words \(argv\).*never go through a shell$/],
    ['relative program', minimal.replace('{ name: java }', '{ name: java }\n    restart: { command: [systemctl, restart, x] }'), /restart\.command: the program must be an absolute path/],
    ['no probe', `services:\n  tomcat: { critical: true }\n${KEEPALIVED}`, /^w\.yaml:2:11: services\.tomcat: a service needs at least one probe: process, http or tcp$/],
    ['bad tcp port', minimal.replace('{ name: java }', '{ name: java }\n    tcp: "127.0.0.1:70000"'), /^w\.yaml:4:10: services\.tomcat\.tcp: expected "host:port"/],
    ['bad service name', `services:\n  "tom cat": { process: { name: java } }\n${KEEPALIVED}`, /^w\.yaml:2:3: services\.tom cat: service names may use letters/],
    ['missing keepalived start', `services:\n  tomcat: { process: { name: java } }\nkeepalived: {}\n`, /keepalived\.start: expected a mapping, got nothing/],
    ['missing services', KEEPALIVED, /services: expected a mapping, got nothing/],
    ['YAML syntax error', 'services: [\n', /^w\.yaml:\d+:\d+: YAML: /],
    ['duplicate key', `interval: 1s\ninterval: 2s\n${minimal}`, /^w\.yaml:2:1: YAML: Map keys must be unique/],
    ['not a mapping', '- a\n- b\n', /^w\.yaml:1:1: expected a mapping of keys/],
    ['process name with a slash', minimal.replace('name: java', 'name: /usr/bin/java'), /process\.name: expected a bare executable name/],
    ['bad digest', minimal.replace('{ name: java }', '{ name: java }\n    http: { url: "http://x/", digest: xyz }'), /http\.digest: expected 32 hex digits/],
  ];
  for (const [name, text, re] of cases) {
    it(`${name} -> ${re.source.slice(0, 60)}`, () => {
      const lines = problems(text);
      assert.ok(lines.some((l) => re.test(l)), lines.join('\n'));
    });
  }

  it('the new sections get their documented defaults', () => {
    const c = parseConfig(`peer: { url: "http://10.0.0.2:9120/healthz" }\nmetrics: { listen: "127.0.0.1:9120" }\nnotify: { webhook: { url: "http://127.0.0.1:9/x" } }\n${minimal}`, 'w.yaml');
    assert.equal(c.failover.order, 'auto');
    assert.deepEqual([c.keepalived.control, c.keepalived.trackFile], ['stop', '/run/ha-watchdog/keepalived.track']);
    assert.deepEqual(c.metrics, { listen: { host: '127.0.0.1', port: 9120 } });
    assert.deepEqual(c.peer, { url: 'http://10.0.0.2:9120/healthz', timeout: 1000, required: false });
    assert.deepEqual([c.notify!.webhook!.timeout, c.notify!.webhook!.retries, c.notify!.dedupe], [5000, 3, 300_000]);
    assert.ok(c.notify!.events.includes('failover'));
    assert.equal(c.warnings, undefined);
  });

  it('warnings (valid, but wrong for this host) name file, line and key', () => {
    const c = parseConfig(`failover: { order: handover-first }\n${minimal.replace('keepalived:\n', 'keepalived:\n  control: track-file\n  trackFile: /etc/passwd/keepalived.track\n')}`, 'w.yaml');
    const lines = (c.warnings ?? []).map((w) => `${w.file}:${w.line}:${w.column}: ${w.key}: ${w.message}`);
    assert.deepEqual(lines, [
      'w.yaml:7:14: keepalived.trackFile: /etc/passwd/keepalived.track cannot be created: /etc/passwd is not a directory; the agent could not move the VIP (keepalived.control is track-file)',
      'w.yaml:1:20: failover.order: handover-first hands the VIP over only to a peer known to be healthy; without `peer` it always restarts first',
    ]);
    const dir = parseConfig(minimal.replace('keepalived:\n', 'keepalived:\n  control: track-file\n  trackFile: /tmp\n'), 'w.yaml');
    assert.match(dir.warnings?.[0]?.message ?? '', /^\/tmp is a directory, expected a file/);
  });

  it("no pidwait on this host: a warning naming the processes that the pid watch will read every 250 ms (this host's own helpers: none)", () => {
    const text = `services:\n  nginx:\n    process: { name: nginx, unit: nginx.service }\n  tomcat:\n    process: { name: java }\n${KEEPALIVED}`;
    const c = parseConfig(text, 'w.yaml');
    assert.equal(c.warnings, undefined, '/usr/bin/pidwait and /usr/bin/setpriv are on this host (procps, util-linux)');
    const w = configWarnings(c, { pidwait: '/nonexistent/pidwait' });
    assert.deepEqual(w, [
      {
        path: ['services', 'tomcat', 'process'],
        message: "/nonexistent/pidwait not found (procps >= 4, util-linux): the processes of tomcat, keepalived will be watched by reading /proc every 250 ms instead of by the kernel's exit notice",
      },
    ]);
    // Only units: nothing for the pid watch to do, so nothing to say.
    const units = parseConfig(text.replace('{ name: java }', '{ name: java, unit: tomcat10.service }').replace(KEEPALIVED, KEEPALIVED.replace('keepalived:\n', 'keepalived:\n  process: { name: keepalived, unit: keepalived.service }\n')), 'w.yaml');
    assert.deepEqual(configWarnings(units, { pidwait: '/nonexistent/pidwait' }), []);
  });

  it('every problem is reported at once, not just the first', () => {
    const lines = problems(`interval: 7s\nstateDir: rel\n${minimal.replace('{ name: java }', '{ name: java, x: 1 }')}`);
    assert.equal(lines.length, 3, lines.join('\n'));
  });

  it('durations: ms, s, m, h and bare seconds', () => {
    const c = parseConfig(minimal.replace('{ name: java }', '{ name: java }\n    http: { url: "http://x/", timeout: 1500ms }\n    restart: { command: [/bin/true], timeout: 2m, grace: 1h }\n    tcp: { address: "[::1]:8009", timeout: 0.5 }'), 'w.yaml');
    const t = c.services.tomcat!;
    assert.deepEqual([t.http!.timeout, t.restart!.timeout, t.restart!.grace, t.tcp!.timeout, t.tcp!.host], [1500, 120_000, 3_600_000, 500, '::1']);
  });
});

describe('config: loadConfig ownership when running as root', () => {
  it('refuses a config that group or others can write, saying so', () => {
    const dir = mkdtempSync(join(tmpdir(), 'haw-cfg-'));
    try {
      const f = join(dir, 'w.yaml');
      writeFileSync(f, minimal);
      chmodSync(f, 0o666);
      assert.throws(() => loadConfig(f, { asRoot: true }), /refusing a config that its group or others can write: .*w\.yaml is owned by .*, mode 0666; required: owned by root and not writable by group or others, when the agent runs as root \(root runs the commands in it\)\. chmod go-w /);
      chmodSync(f, 0o644);
      if (process.getuid?.() === 0) assert.doesNotThrow(() => loadConfig(f, { asRoot: true }));
      else assert.throws(() => loadConfig(f, { asRoot: true }), /owned by .*uid \d+/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('an unreadable file is a ConfigError naming the file', () => {
    assert.throws(() => loadConfig('/nonexistent/w.yaml'), /\/nonexistent\/w\.yaml: cannot read the config: ENOENT/);
  });
});

describe('config: YAML resource limits (aliases, size of the document)', () => {
  const bomb = (levels: number) => {
    const names = 'abcdefghijk'.split('').slice(0, levels);
    const lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i < names.length; i++) lines.push(`${names[i]}: &${names[i]} [${Array(9).fill(`*${names[i - 1]}`).join(',')}]`);
    return `${lines.join('\n')}\n`;
  };

  it('a "billion laughs" alias bomb is refused with file:line:column of the alias that goes past the limit', () => {
    assert.deepEqual(problems(bomb(9)), ['w.yaml:6:8: YAML: aliases expand to more than 100000 nodes (*e alone is 66430): a "billion laughs" resource exhaustion attack? a config never needs this']);
  });

  it('a few aliases stay valid (a shared restart block), even one used by many services', () => {
    const shared = `x-restart: &r { command: [/bin/true], grace: 5s }\n`;
    const services = Array.from({ length: 150 }, (_, i) => `  s${i}: { process: { name: java }, restart: *r }`).join('\n');
    const lines = problems(`${shared}services:\n${services}\n${KEEPALIVED}`);
    // x-restart is an unknown key, which proves the aliases themselves passed
    assert.equal(lines.length, 1, lines.join('\n'));
    assert.match(lines[0]!, /^w\.yaml:1:1: x-restart: unknown key "x-restart"; expected one of: interval, /);
    const c = parseConfig(`services:\n  a: { process: { name: java }, restart: &r { command: [/bin/true] } }\n  b: { process: { name: java }, restart: *r }\n${KEEPALIVED}`, 'w.yaml');
    assert.deepEqual(c.services.b!.restart!.command, ['/bin/true']);
  });

  it('more than 1000 aliases are refused at the first one past the limit', () => {
    const text = `x: &x 1\ny: [${Array(1001).fill('*x').join(', ')}]\n`;
    assert.match(problems(text)[0]!, /^w\.yaml:2:\d+: YAML: more than 1000 aliases/);
  });

  it('duplicate keys are still refused, in linear time, each one named', () => {
    assert.deepEqual(problems(`interval: 1s\ninterval: 2s\n${minimal}`), ['w.yaml:2:1: YAML: Map keys must be unique']);
    const services = Array.from({ length: 900 }, (_, i) => `  s${i % 450}: { process: { name: java } }`).join('\n');
    const lines = problems(`services:\n${services}\n${KEEPALIVED}`);
    assert.equal(lines[0], 'w.yaml:452:3: YAML: Map keys must be unique');
    assert.equal(lines.length, 101, 'the first 100, then how many more');
    assert.equal(lines[100], 'w.yaml: ... and 350 more problem(s) not listed');
  });

  it('more than 1000 services are refused with one clear error, before each is checked', () => {
    const services = Array.from({ length: 1001 }, (_, i) => `  s${i}: { tcp: "127.0.0.1:${1 + i}" }`).join('\n');
    assert.deepEqual(problems(`services:\n${services}\n${KEEPALIVED}`), ['w.yaml:1:1: services: at most 1000 services, got 1001: the agent probes every one of them every interval']);
  });

  it('1000 services are valid; 1000 bad ones list the first 100 problems and count the rest', () => {
    const ok = Array.from({ length: 1000 }, (_, i) => `  s${i}: { tcp: "127.0.0.1:${1 + i}" }`).join('\n');
    assert.equal(Object.keys(parseConfig(`services:\n${ok}\n${KEEPALIVED}`, 'w.yaml').services).length, 1000);
    const bad = Array.from({ length: 1000 }, (_, i) => `  s${i}: { tcp: "127.0.0.1:0" }`).join('\n');
    const lines = problems(`services:\n${bad}\n${KEEPALIVED}`);
    assert.equal(lines.length, 101);
    assert.match(lines[0]!, /^w\.yaml:2:\d+: services\.s0\.tcp: expected "host:port"/);
    assert.equal(lines[100], 'w.yaml: ... and 900 more problem(s) not listed');
  });

  it('nesting deeper than 64 levels is refused with its position, before it can overflow the stack', () => {
    assert.deepEqual(problems(`${'['.repeat(20000)}${']'.repeat(20000)}\n`), ['w.yaml:1:66: YAML: nested more than 64 levels deep; a config needs a few']);
    assert.deepEqual(problems(`${'- '.repeat(3000)}x\n`), ['w.yaml:1:131: YAML: nested more than 64 levels deep; a config needs a few']);
  });

  it('a second document is refused', () => {
    assert.deepEqual(problems(`${minimal}---\n${minimal}`), ['w.yaml:6:1: YAML: Source contains multiple documents; a config is one document']);
  });
});

