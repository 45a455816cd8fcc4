// Reading a config file: YAML with positions, then the schema, then problems
// mapped back to file:line:column and the key path an operator would type.
import { readFileSync, statSync } from 'node:fs';
import { isMap, isScalar, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import type { z } from 'zod';
import { describe } from './duration.js';
import { ConfigError, type ConfigProblem } from './errors.js';
import { configSchema, type ParsedConfig } from './schema.js';
import { configWarnings } from './warnings.js';

export type Config = ParsedConfig & { file: string; warnings?: ConfigProblem[] };
export type ServiceConfig = ParsedConfig['services'][string];
export type ProcessMatch = ServiceConfig['process'] & {};
export type HttpCheck = ServiceConfig['http'] & {};
export type TcpCheck = ServiceConfig['tcp'] & {};
export type CommandSpec = ParsedConfig['keepalived']['start'];
export type RestartSpec = ServiceConfig['restart'] & {};
export type NotifyConfig = ParsedConfig['notify'] & {};
export type PeerConfig = ParsedConfig['peer'] & {};

export const DEFAULT_CONFIG_PATH = '/etc/ha-watchdog/watchdog.yaml';

/** Reads, checks and returns the config; throws ConfigError listing every problem. */
export function loadConfig(file: string, opts: { asRoot?: boolean } = {}): Config {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError([{ file, key: '', message: `cannot read the config: ${(e as Error).message}` }]);
  }
  const asRoot = opts.asRoot ?? process.getuid?.() === 0;
  if (asRoot) checkOwnership(file);
  return parseConfig(text, file);
}

// Root runs the commands in this file, so whoever can write it can become root.
function checkOwnership(file: string): void {
  const st = statSync(file);
  const problems: ConfigProblem[] = [];
  if (st.mode & 0o022) {
    problems.push({ file, key: '', message: `refusing a config that its group or others can write (mode ${(st.mode & 0o777).toString(8)}) while running as root: root runs its commands; chmod go-w ${file}` });
  }
  if (st.uid !== 0) {
    problems.push({ file, key: '', message: `refusing a config owned by uid ${st.uid} while running as root: root runs its commands; chown root ${file}` });
  }
  if (problems.length) throw new ConfigError(problems);
}

export function parseConfig(text: string, file: string): Config {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number) => lines.linePos(offset);
  if (doc.errors.length) {
    throw new ConfigError(
      doc.errors.map((e) => {
        const pos = at(e.pos[0]);
        return { file, line: pos.line, column: pos.col, key: '', message: `YAML: ${e.message.split('\n')[0]}` };
      }),
    );
  }
  const raw = doc.toJS() ?? {};
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError([{ file, line: 1, column: 1, key: '', message: `expected a mapping of keys (interval, stateDir, services, keepalived), got ${describe(raw)}` }]);
  }
  const result = configSchema.safeParse(raw);
  if (!result.success) {
    throw new ConfigError(result.error.issues.flatMap((issue) => toProblems(issue, doc, raw, file, at)));
  }
  const warnings = configWarnings(result.data).map((w): ConfigProblem => {
    const offset = locate(doc, w.path, false);
    const pos = offset === undefined ? undefined : at(offset);
    return { file, ...(pos && { line: pos.line, column: pos.col }), key: w.path.join('.'), message: w.message };
  });
  return { ...result.data, file, ...(warnings.length && { warnings }) };
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
