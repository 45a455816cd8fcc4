// contrib/watchdog.schema.json: a JSON Schema (draft 2020-12) of watchdog.yaml, for
// editors (yaml-language-server) and other tools.
//
//   node --import tsx packaging/schema.ts          writes contrib/watchdog.schema.json
//   node --import tsx packaging/schema.ts --check  exits 1 if the committed file is stale
//
// The structure (every key, nesting, required keys, unknown keys refused, the defaults
// zod knows) comes from src/config/schema.ts through zod 4's own z.toJSONSchema, input
// side. Most leaves there are custom transforms (durations, argv, regexes, counts with
// friendly messages), which JSON Schema cannot see into: zod emits `{}` for them. Those
// get the hand-written types of LEAVES below, matched by key name. To keep it honest:
// - a leaf that is still `{}` after the overrides fails the generation (a new key in
//   schema.ts must be described here);
// - every default written here is checked against what the real schema fills in for a
//   config that leaves the key out (durations compared in ms).
// The schema is looser than the agent where JSON Schema cannot follow: regexes are
// only checked to be non-empty strings, the number of services is not bounded, URLs to start with http(s)://, intervals to
// be durations (node-cron's whole-second rule is `ha-watchdog validate`'s job).
import { writeFileSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { z } from 'zod';
import { parseDuration } from '../src/config/duration.js';
import { DEFAULT_NOTIFY_EVENTS, NOTIFY_EVENTS } from '../src/catalogue/events.js';
import { configSchema } from '../src/config/schema.js';
import { ROOT } from './sea.js';

export const SCHEMA_FILE = join(ROOT, 'contrib/watchdog.schema.json');
export const SCHEMA_ID = 'https://github.com/ha-watchdog/ha-watchdog/raw/main/contrib/watchdog.schema.json';

type Json = Record<string, unknown>;

const DEFS: Record<string, Json> = {
  duration: {
    description: 'A duration: "500ms", "3s", "2m", "1h", or a number of seconds.',
    anyOf: [
      { type: 'string', pattern: '^\\s*\\d+(\\.\\d+)?\\s*(ms|s|m|h)\\s*$' },
      { type: 'number', minimum: 0 },
    ],
  },
  argv: {
    description: 'A command as a list of words (argv), never a shell string; the program must be an absolute path.',
    type: 'array',
    minItems: 1,
    prefixItems: [{ type: 'string', pattern: '^/' }],
    items: { type: 'string' },
  },
  hostPort: { description: '"host:port"; IPv6 as "[::1]:8009".', type: 'string', pattern: '^(\\[[^\\]]+\\]|[^:\\s]+):\\d{1,5}$' },
  absolutePath: { type: 'string', pattern: '^/' },
  url: { description: 'An http:// or https:// URL.', type: 'string', pattern: '^https?://' },
  regex: { description: 'A regular expression (its syntax is checked by `ha-watchdog validate`).', type: 'string', minLength: 1 },
};
const ref = (name: string, extra: Json = {}): Json => ({ $ref: `#/$defs/${name}`, ...extra });

/** Leaf types by key name (and the parent's key where one name means two things). */
function leaf(key: string, parent: string, path: string): Json | undefined {
  const dur = (d: string, description: string) => ref('duration', { default: d, description });
  switch (key) {
    case 'interval':
      return dur('1s', 'Poll period; must divide a minute, an hour or a day (1s 2s 3s 4s 5s 6s 10s 12s 15s 20s 30s, 1m ... 30m, 1h ... 12h).');
    case 'stateDir':
      return ref('absolutePath', { default: '/var/lib/ha-watchdog', description: 'State, lock, control socket and command output.' });
    case 'critical':
      return { type: 'boolean', default: true, description: 'If it cannot be brought back, keepalived is stopped so the VIP moves.' };
    case 'name':
      return { type: 'string', minLength: 1, pattern: '^[^/]+$', description: 'Executable name: basename of /proc/<pid>/exe, or the process comm.' };
    case 'args':
      return ref('regex', { description: 'Regular expression over the full command line.' });
    case 'bodyMatches':
      return ref('regex', { description: 'Regular expression the body must match (first 1 MiB).' });
    case 'pidfile':
      return ref('absolutePath', { description: 'The pid in it must be alive and match name/args.' });
    case 'namespace':
      return { enum: ['own', 'any'], default: 'own', description: 'own: only processes in the agent\'s pid namespace; any: every process /proc shows.' };
    case 'unit':
      if (parent === 'process') return { type: 'string', pattern: '^[A-Za-z0-9:_.@\\\\-]+\\.(service|scope)$', description: 'Only processes in this systemd unit\'s cgroup count.' };
      // restart.unit, keepalived.start.unit, keepalived.stop.unit
      return {
        type: 'string',
        pattern: '^[A-Za-z0-9:_.@\\\\-]+\\.service$',
        description: `A systemd ${parent === 'restart' ? 'restart' : parent} job of this service unit over D-Bus instead of a command (systemctl ${parent === 'restart' ? 'restart' : parent} UNIT without a bus); exactly one of command and unit.`,
      };
    case 'url':
      return ref('url');
    case 'timeout': {
      const d = path.endsWith('services.*.http.timeout')
        ? '500ms'
        : path === 'keepalived.vip.timeout' || path === 'peer.timeout'
          ? '1s'
          : path.endsWith('tcp.timeout')
            ? '2s'
            : path === 'notify.webhook.timeout'
              ? '5s'
              : path === 'notify.command.timeout'
                ? '10s'
                : '60s';
      return dur(d, 'The whole request or command; a command is killed past it.');
    }
    case 'digest':
      return { type: 'string', pattern: '^[0-9a-fA-F]{32}$', description: 'MD5 of the body (keepalived HTTP_GET digest).' };
    case 'tlsVerify':
      return { type: 'boolean', default: true, description: 'false accepts any certificate.' };
    case 'fall':
      return { type: 'integer', minimum: 1, maximum: 100, default: 2, description: 'Consecutive failed probes before the service counts as down.' };
    case 'rise':
      return { type: 'integer', minimum: 1, maximum: 100, default: 2, description: 'Consecutive good polls before it counts as up again.' };
    case 'retryDelay':
      return dur('100ms', 'After a failed probe of a service not yet down, how soon it is asked again.');
    case 'grace':
      return dur('90s', 'After the restart command, how long the service has to become healthy.');
    case 'attempts':
      return { type: 'integer', minimum: 1, maximum: 100, default: 1, description: 'Restarts tried before the service counts as failed.' };
    case 'command':
      return ref('argv');
    case 'control':
      return { enum: ['stop', 'track-file'], default: 'stop', description: 'How the VIP is given up.' };
    case 'trackFile':
      return ref('absolutePath', { default: '/run/ha-watchdog/keepalived.track', description: 'keepalived track_file for control: track-file.' });
    case 'order':
      return { enum: ['auto', 'restart-first', 'handover-first'], default: 'auto', description: 'Restart here first, hand the VIP over first, or choose per failure.' };
    case 'flapLimit':
      return { type: 'integer', minimum: 1, maximum: 100, default: 6, description: 'At most this many VIP releases by this host in an hour; past that the VIP stays where it is (failover.flapping).' };
    case 'config':
      if (parent === 'keepalived') return ref('absolutePath', { default: '/etc/keepalived/keepalived.conf', description: "keepalived's own config, read by doctor." });
      return undefined;
    case 'listen':
      return ref('hostPort', { description: 'Address for /metrics and /healthz, e.g. 127.0.0.1:9120.' });
    case 'retries':
      return { type: 'integer', minimum: 0, maximum: 10, default: 3, description: 'Webhook retries.' };
    case 'dedupe':
      return dur('5m', 'The same event for the same service is sent at most once per this window.');
    case 'required':
      if (parent === 'peer') return { type: 'boolean', default: false, description: 'true: a peer that cannot be asked counts as unhealthy.' };
      return undefined;
    case 'tcp':
      return {
        description: 'A TCP connect check: "host:port" or { address, timeout }.',
        anyOf: [
          ref('hostPort'),
          {
            type: 'object',
            properties: { address: ref('hostPort'), timeout: ref('duration', { default: '2s' }) },
            required: ['address'],
            additionalProperties: false,
          },
        ],
      };
    default:
      return undefined;
  }
}

const isEmpty = (s: unknown) => s !== null && typeof s === 'object' && Object.keys(s as object).length === 0;

/** Fills the `{}` leaves; returns every key path (services.*.http.url, ...) with its default. */
function fill(node: Json, path: string, parent: string, paths: Map<string, unknown>): void {
  const props = node.properties as Record<string, Json> | undefined;
  if (props) {
    for (const [key, child] of Object.entries(props)) {
      const p = path ? `${path}.${key}` : key;
      if (isEmpty(child)) {
        const l = leaf(key, parent, p);
        if (!l) throw new Error(`${p}: zod gives no type for it and packaging/schema.ts has none: describe it in leaf()`);
        props[key] = l;
      } else if (key === 'expectStatus') {
        props[key] = { ...child, items: { type: 'integer', minimum: 100, maximum: 599 }, description: 'Accepted status codes (default: any 2xx/3xx; redirects are not followed).' };
      } else if (key === 'diagnose') {
        props[key] = {
          type: 'array',
          maxItems: 4,
          description: 'Run before restarting a service whose process is alive but unhealthy; "{pid}" in a word is replaced by its pid.',
          items: { type: 'object', properties: { command: ref('argv'), timeout: ref('duration', { default: '10s', description: 'The diagnose command is killed past it.' }) }, required: ['command'], additionalProperties: false },
        };
      } else if (key === 'events') {
        props[key] = { ...child, items: { enum: [...NOTIFY_EVENTS] } };
      } else if (key === 'services') {
        const svc = child.additionalProperties as Json;
        fill(svc, `${p}.*`, key, paths);
        props[key] = {
          ...child,
          description: 'The services to watch, by name.',
          propertyNames: { type: 'string', pattern: '^[A-Za-z0-9_.-]+$', not: { const: 'keepalived' } },
          minProperties: 1,
          additionalProperties: { ...svc, anyOf: [{ required: ['process'] }, { required: ['http'] }, { required: ['tcp'] }] },
        };
        paths.set(p, undefined);
        continue;
      } else {
        fill(child, p, key, paths);
        // restart, keepalived.start, keepalived.stop: a command or a unit, exactly one.
        if ((child.properties as Json | undefined)?.unit && (child.properties as Json | undefined)?.command) child.oneOf = [{ required: ['command'] }, { required: ['unit'] }];
      }
      paths.set(p, (props[key] as Json).default);
    }
  }
}

/** The JSON Schema, with the defaults it states checked against the real schema's. */
export function generateSchema(): { schema: Json; paths: Map<string, unknown> } {
  const gen = z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any', target: 'draft-2020-12' }) as Json;
  const paths = new Map<string, unknown>();
  fill(gen, '', '', paths);
  const { $schema, ...rest } = gen;
  const schema: Json = {
    $schema,
    $id: SCHEMA_ID,
    title: 'ha-watchdog watchdog.yaml',
    description: 'Generated by packaging/schema.ts from src/config/schema.ts; `ha-watchdog validate` is the authority (it also checks regexes, the interval against node-cron and the host).',
    ...rest,
    required: [...new Set([...((rest.required as string[]) ?? []), 'services', 'keepalived'])],
    $defs: DEFS,
  };
  checkDefaults(paths);
  return { schema, paths };
}

/** Every stated default equals what the agent fills in when the key is left out. */
function checkDefaults(paths: Map<string, unknown>): void {
  const minimal = {
    services: { s: { process: { name: 'x' }, http: { url: 'http://127.0.0.1/' }, tcp: { address: '127.0.0.1:1' }, restart: { command: ['/bin/true'] } } },
    keepalived: { start: { command: ['/bin/true'] }, stop: { command: ['/bin/true'] }, vip: { url: 'http://127.0.0.1/' } },
    notify: { webhook: { url: 'http://127.0.0.1/' }, command: { command: ['/bin/true'] } },
    peer: { url: 'http://127.0.0.1/' },
  };
  const out = configSchema.parse(minimal) as unknown as Json;
  for (const [p, def] of paths) {
    if (def === undefined) continue;
    let v: unknown = out;
    for (const k of p.split('.')) v = (v as Json | undefined)?.[k === '*' ? 's' : k];
    const want = typeof def === 'string' && typeof parseDuration(def) === 'number' && typeof v === 'number' ? parseDuration(def) : def;
    if (!isDeepStrictEqual(v, want)) throw new Error(`${p}: the JSON Schema says default ${JSON.stringify(def)}, the agent fills in ${JSON.stringify(v)}`);
  }
  if (!isDeepStrictEqual((out.notify as Json).events, DEFAULT_NOTIFY_EVENTS)) throw new Error('notify.events default drifted');
}

export const schemaText = () => `${JSON.stringify(generateSchema().schema, null, 2)}\n`;

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const text = schemaText();
  if (process.argv.includes('--check')) {
    const committed = readFileSync(SCHEMA_FILE, 'utf8');
    if (committed !== text) {
      process.stderr.write(`${SCHEMA_FILE} is stale: run node --import tsx packaging/schema.ts\n`);
      process.exit(1);
    }
  } else {
    writeFileSync(SCHEMA_FILE, text);
    process.stdout.write(`wrote ${SCHEMA_FILE}\n`);
  }
}
