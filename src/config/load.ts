// Reading a config file: YAML with positions, then the schema, then problems
// mapped back to file:line:column and the key path an operator would type.
import { isMap, isScalar, LineCounter, type Document, type Node } from 'yaml';
import type { z } from 'zod';
import { ConfigFileError, readConfigFile } from './config-file.js';
import { describe } from './duration.js';
import { ConfigError, type ConfigProblem } from './errors.js';
import { configSchema, MAX_SERVICES, type ParsedConfig } from './schema.js';
import { configWarnings } from './warnings.js';
import { checkYaml, countTopLevelEntries, parseYaml } from './yaml-guard.js';

export type Config = ParsedConfig & { file: string; warnings?: ConfigProblem[] };
export type ServiceConfig = ParsedConfig['services'][string];
export type ProcessMatch = ServiceConfig['process'] & {};
export type HttpCheck = ServiceConfig['http'] & {};
export type TcpCheck = ServiceConfig['tcp'] & {};
/** A command to run: argv and how long it may take (ms). */
export interface CommandSpec {
  command: string[];
  timeout: number;
}
/** keepalived.start / keepalived.stop: a command, or a job of a systemd unit (exactly one). */
export type CommandOrUnit = ParsedConfig['keepalived']['start'];
export type RestartSpec = ServiceConfig['restart'] & {};
export type NotifyConfig = ParsedConfig['notify'] & {};
export type PeerConfig = ParsedConfig['peer'] & {};

export { DEFAULT_CONFIG_PATH } from './path.js';

/**
 * Reads, checks and returns the config; throws ConfigError listing every problem.
 * Running as root (asRoot, by default when the uid is 0), the file must be root's and
 * writable by nobody else, and so must every directory on its path (config-file.ts).
 */
export function loadConfig(file: string, opts: { asRoot?: boolean } = {}): Config {
  const asRoot = opts.asRoot ?? process.getuid?.() === 0;
  let text: string;
  try {
    text = readConfigFile(file, asRoot);
  } catch (e) {
    if (!(e instanceof ConfigFileError)) throw e;
    throw new ConfigError(e.message.split('\n').map((message) => ({ file, key: '', message })));
  }
  return parseConfig(text, file);
}

const tooManyServices = (n: number) => `at most ${MAX_SERVICES} services, got ${n}: the agent probes every one of them every interval`;

/** At most this many problems are listed; the count of the rest is given. */
const MAX_PROBLEMS = 100;

export function parseConfig(text: string, file: string): Config {
  const lines = new LineCounter();
  const at = (offset: number) => lines.linePos(offset);
  const problemAt = (offset: number, message: string, key = ''): ConfigProblem => {
    const pos = at(offset);
    return { file, line: pos.line, column: pos.col, key, message };
  };
  let doc: Document;
  let raw: unknown;
  try {
    // Nesting, duplicate keys and aliases are checked by yaml-guard.ts (linear, with positions).
    // Too many services is refused on the token tree, before building them all.
    const parsed = parseYaml(text, lines, (tokens) => {
      const services = countTopLevelEntries(tokens, 'services');
      return services && services.count > MAX_SERVICES ? { offset: services.offset, message: tooManyServices(services.count), key: 'services' } : null;
    });
    if (!('contents' in parsed)) throw new ConfigError([problemAt(parsed.offset, parsed.message, parsed.key)]);
    doc = parsed;
    if (doc.errors.length) {
      throw new ConfigError(capped(doc.errors.map((e) => problemAt(e.pos[0], `YAML: ${e.message.split('\n')[0]}`)), file));
    }
    const yamlProblems = checkYaml(doc);
    if (yamlProblems.length) throw new ConfigError(capped(yamlProblems.map((p) => problemAt(p.offset, p.message)), file));
    raw = doc.toJS({ maxAliasCount: -1 }) ?? {};
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    // Whatever else the YAML library throws (nesting too deep for the stack...) still names the file.
    throw new ConfigError([{ file, line: 1, column: 1, key: '', message: `YAML: cannot be read: ${(e as Error).message}` }]);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ConfigError([{ file, line: 1, column: 1, key: '', message: `expected a mapping of keys (interval, stateDir, services, keepalived), got ${describe(raw)}` }]);
  }
  const services = (raw as { services?: unknown }).services;
  if (services && typeof services === 'object' && !Array.isArray(services)) {
    const n = Object.keys(services).length;
    if (n > MAX_SERVICES) {
      const offset = locate(doc, ['services'], true);
      throw new ConfigError([{ file, ...(offset !== undefined && { line: at(offset).line, column: at(offset).col }), key: 'services', message: tooManyServices(n) }]);
    }
  }
  const result = configSchema.safeParse(raw);
  if (!result.success) {
    const issues = result.error.issues;
    const problems = issues.slice(0, MAX_PROBLEMS).flatMap((issue) => toProblems(issue, doc, raw, file, at));
    throw new ConfigError(capped(problems, file, issues.length - MAX_PROBLEMS));
  }
  const warnings = configWarnings(result.data).map((w): ConfigProblem => {
    const offset = locate(doc, w.path, false);
    const pos = offset === undefined ? undefined : at(offset);
    return { file, ...(pos && { line: pos.line, column: pos.col }), key: w.path.join('.'), message: w.message };
  });
  return { ...result.data, file, ...(warnings.length && { warnings }) };
}

/** The first MAX_PROBLEMS problems and, if there were more, a line saying how many. */
function capped(problems: ConfigProblem[], file: string, more = problems.length - MAX_PROBLEMS): ConfigProblem[] {
  const shown = problems.slice(0, MAX_PROBLEMS);
  return more > 0 ? [...shown, { file, key: '', message: `... and ${more} more problem(s) not listed` }] : shown;
}

type Path = (string | number)[];

function toProblems(
  issue: z.core.$ZodIssue,
  doc: Document,
  raw: unknown,
  file: string,
  at: (offset: number) => { line: number; col: number },
): ConfigProblem[] {
  const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
  const place = (p: Path, keyOnly: boolean) => {
    const offset = locate(doc, p, keyOnly);
    if (offset === undefined) return {};
    const pos = at(offset);
    return { line: pos.line, column: pos.col };
  };
  if (issue.code === 'unrecognized_keys') {
    const allowed = objectKeysAt(configSchema, path);
    return issue.keys.map((k) => ({
      file,
      ...place([...path, k], true),
      key: [...path, k].join('.'),
      message: `unknown key "${k}"${allowed ? `; expected one of: ${allowed.join(', ')}` : ''}`,
    }));
  }
  let message = issue.message;
  if (issue.code === 'invalid_key') {
    return [{ file, ...place(path, true), key: path.join('.'), message: issue.issues.map((i) => i.message).join('; ') }];
  }
  if (issue.code === 'invalid_type') {
    message = `expected ${typeName(issue.expected)}, got ${describe(valueAt(raw, path))}`;
  } else if (issue.code === 'invalid_union') {
    message = `expected ${unionHint(path)}, got ${describe(valueAt(raw, path))}`;
  }
  return [{ file, ...place(path, false), key: path.join('.'), message }];
}

function typeName(t: string): string {
  return ({ object: 'a mapping', record: 'a mapping', array: 'a list', string: 'a string', number: 'a number', boolean: 'true or false' } as Record<string, string>)[t] ?? t;
}

function unionHint(path: Path): string {
  return path[path.length - 1] === 'tcp' ? '"host:port" or { address: "host:port", timeout: 2s }' : 'one of the allowed forms';
}

function valueAt(raw: unknown, path: Path): unknown {
  let v: any = raw;
  for (const p of path) v = v?.[p];
  return v;
}

/** Offset of the node at path (or of its key), falling back to the nearest parent that exists. */
function locate(doc: Document, path: Path, keyOnly: boolean): number | undefined {
  for (let n = path.length; n >= 0; n--) {
    const sub = path.slice(0, n);
    if (keyOnly || n < path.length) {
      const parent = sub.length === 0 ? doc.contents : (doc.getIn(sub.slice(0, -1), true) as Node | undefined);
      const last = sub[sub.length - 1];
      if (isMap(parent) && last !== undefined) {
        const pair = parent.items.find((p) => isScalar(p.key) && p.key.value === last);
        const keyNode = pair?.key as Node | undefined;
        if (keyNode?.range) return keyNode.range[0];
      }
    }
    const node = (sub.length === 0 ? doc.contents : doc.getIn(sub, true)) as Node | undefined | null;
    if (node && typeof node === 'object' && 'range' in node && node.range) return node.range[0];
  }
  return undefined;
}

/** The keys a strict object at this path allows, read from the schema itself. */
function objectKeysAt(schema: unknown, path: Path): string[] | undefined {
  let s: any = schema;
  for (let i = 0; i <= path.length; i++) {
    for (let guard = 0; guard < 20; guard++) {
      const def = s?._zod?.def;
      if (!def) return undefined;
      if (['optional', 'default', 'nullable', 'prefault'].includes(def.type)) s = def.innerType;
      else if (def.type === 'pipe') s = def.in;
      else if (def.type === 'union') s = def.options.find((o: any) => o?._zod?.def?.type === 'object' || o?._zod?.def?.type === 'pipe') ?? def.options[0];
      else break;
    }
    const def = s._zod.def;
    if (i === path.length) return def.type === 'object' ? Object.keys(def.shape) : undefined;
    if (def.type === 'object') s = def.shape[path[i]!];
    else if (def.type === 'record') s = def.valueType;
    else return undefined;
  }
  return undefined;
}
