// The man pages (man/, hand-written roff) cannot drift from the program: every command
// and option of `ha-watchdog --help` is in ha-watchdog(8), every key path the config
// schema accepts is an entry of watchdog.yaml(5) with the default the agent really
// fills in, and groff renders both without a warning.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { generateSchema } from '../../packaging/schema.js';
import { CLI, ROOT } from '../helpers/stage.js';

const MAN8 = join(ROOT, 'man/ha-watchdog.8');
const MAN5 = join(ROOT, 'man/watchdog.yaml.5');
const hasGroff = spawnSync('sh', ['-c', 'command -v groff']).status === 0;
if (!hasGroff && process.env.CI === 'true') throw new Error('man page tests: groff missing under CI=true (apt-get install groff-base)');

/** The page as a reader sees it (plain ASCII, no bold/underline overstrikes). */
function render(file: string): string {
  return execFileSync('groff', ['-man', '-Tascii', '-P-cbou', file], { encoding: 'utf8', env: { ...process.env, MANWIDTH: '80' } });
}

/** The sections of a rendered page: NAME -> text. */
function sections(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  let cur = '';
  for (const line of text.split('\n')) {
    if (/^[A-Z][A-Z ]+$/.test(line)) cur = line.trim();
    else if (cur) out[cur] = `${out[cur] ?? ''}${line}\n`;
  }
  return out;
}

/** .TP entries of the roff source: tag -> the body lines up to the next .TP/.SH. */
function entries(src: string): Map<string, string> {
  const lines = src.split('\n');
  const out = new Map<string, string>();
  for (let i = 0; i < lines.length; i++) {
    if (lines[i] !== '.TP') continue;
    const tag = /^\.B (\S+)$/.exec(lines[i + 1] ?? '')?.[1];
    if (!tag) continue;
    const body: string[] = [];
    for (let j = i + 2; j < lines.length && !/^\.(TP|SH)\b/.test(lines[j]!); j++) body.push(lines[j]!);
    out.set(tag, body.join('\n'));
  }
  return out;
}

describe('man pages', () => {
  it('ha-watchdog(8) has every command and option of --help', { skip: !hasGroff }, () => {
    const help = execFileSync(process.execPath, [CLI, '--help'], { encoding: 'utf8' });
    const commands = [...help.split('Options:')[0]!.matchAll(/^  ([a-z]+)\b/gm)].map((m) => m[1]!);
    const options = [...new Set([...help.split('Options:')[1]!.matchAll(/(?<![\w-])(--?[A-Za-z][\w-]*)/g)].map((m) => m[1]!))];
    for (const c of ['run', 'check', 'validate', 'status', 'pause', 'resume', 'retry']) assert.ok(commands.includes(c), `--help parsed wrong: ${commands.join(' ')}`);
    assert.ok(options.length >= 14, options.join(' '));
    const s = sections(render(MAN8));
    for (const c of commands) {
      assert.match(s.COMMANDS ?? '', new RegExp(`^ {7}${c}\\b`, 'm'), `command ${c} has no entry in COMMANDS`);
      assert.match(s.SYNOPSIS ?? '', new RegExp(`ha-watchdog ${c}\\b`), `command ${c} not in SYNOPSIS`);
    }
    for (const o of options) assert.match(s.OPTIONS ?? '', new RegExp(`(^|[\\s,])${o.replace(/-/g, '\\-')}\\b`, 'm'), `option ${o} not in OPTIONS`);
    // The exit codes of check, and the signals of run.
    for (const code of ['0', '1', '2', '3']) assert.match(s['EXIT STATUS'] ?? '', new RegExp(`^ {7}${code}\\s`, 'm'));
    assert.match(s['EXIT STATUS'] ?? '', /64/);
    for (const sig of ['SIGHUP', 'SIGTERM', 'SIGINT']) assert.match(s.SIGNALS ?? '', new RegExp(sig));
    for (const f of ['/etc/ha-watchdog/watchdog.yaml', '/var/lib/ha-watchdog/', 'ha-watchdog.service', 'keepalived-override.conf']) assert.ok((s.FILES ?? '').includes(f), `${f} not in FILES`);
  });

  it('watchdog.yaml(5) has an entry for every key path of the schema, with the default the agent fills in, and no entry for a key that does not exist', () => {
    const { paths } = generateSchema();
    const man = entries(readFileSync(MAN5, 'utf8'));
    const fmt = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));
    for (const [p, def] of paths) {
      const key = p.replace(/\*/g, 'NAME');
      const body = man.get(key);
      assert.ok(body !== undefined, `watchdog.yaml.5 has no entry for ${key}`);
      if (def !== undefined) assert.ok(body.includes(`Default: ${fmt(def)}.`), `${key}: the page does not say "Default: ${fmt(def)}."\n${body}`);
      else assert.ok(!/^Default: (?!any 2xx|\{ name: keepalived \}|keepalived\.|all of them)/m.test(body), `${key}: the schema has no default, the page states one:\n${body}`);
    }
    const known = new Set([...paths.keys()].map((p) => p.replace(/\*/g, 'NAME')));
    for (const tag of man.keys()) if (/^[a-z]/.test(tag) && !tag.startsWith('/')) assert.ok(known.has(tag), `watchdog.yaml.5 describes ${tag}, which the schema does not accept`);
  });

  it('groff renders both without a warning (and man(1) when installed)', { skip: !hasGroff }, () => {
    for (const f of [MAN8, MAN5]) {
      const r = spawnSync('groff', ['-man', '-ww', '-z', '-Tutf8', f], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stderr, '', `${f}: groff warnings`);
      if (spawnSync('sh', ['-c', 'command -v man']).status === 0) {
        const m = spawnSync('man', ['--warnings', '-E', 'UTF-8', '-l', f], { encoding: 'utf8', env: { ...process.env, MANWIDTH: '80', MAN_KEEP_FORMATTING: '' } });
        assert.equal(m.stderr, '', `${f}: man --warnings`);
      }
    }
  });
});
