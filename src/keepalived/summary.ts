// What `doctor` needs of a keepalived.conf: the VRRP instances and the track files,
// each value with the file and line it came from. The VRRP password never leaves this
// host: it is kept only as a keyed hash (HMAC with a nonce the asker chose), so two
// hosts can compare passwords without either seeing the other's.
import { createHmac } from 'node:crypto';
import type { ParsedConf, Statement, Where } from './conf.js';

export type Field<T> = { value: T } & Where;

export interface VrrpInstance extends Where {
  name: string;
  state?: Field<string>;
  interface?: Field<string>;
  virtualRouterId?: Field<number>;
  /** keepalived's default is 100. */
  priority: Field<number> | { value: 100; file?: undefined; line?: undefined };
  advertInt?: Field<number>;
  version?: Field<number>;
  nopreempt?: Where;
  authType?: Field<string>;
  /** HMAC-SHA256(nonce, auth_pass); absent without a password. */
  authHash?: Field<string>;
  vips: Array<Field<string>>;
  /** track_script / track_file entries, with the weight given in the instance (if any). */
  trackScripts: Array<Field<string> & { weight?: number }>;
  trackFiles: Array<Field<string> & { weight?: number }>;
}

export interface TrackFileDef extends Where {
  name: string;
  /** The tracked file's path (its `file` keyword). */
  path?: string;
  /** keepalived's default is 1 (the file's value times the weight, added to the priority). */
  weight: number;
}

export interface KeepalivedSummary {
  files: string[];
  /** global_defs vrrp_version, if set (keepalived's default is 2). */
  vrrpVersion?: Field<number>;
  instances: VrrpInstance[];
  trackFiles: TrackFileDef[];
  /** vrrp_script definitions: their weight (keepalived's default 0: a failing script means FAULT). */
  scripts: Array<Where & { name: string; weight: number }>;
  problems: Array<Where & { message: string }>;
}

const num = (s: string | undefined): number | undefined => (s !== undefined && /^-?\d+$/.test(s) ? Number(s) : undefined);

export function summarize(conf: ParsedConf, nonce: string): KeepalivedSummary {
  const out: KeepalivedSummary = { files: conf.files, instances: [], trackFiles: [], scripts: [], problems: [...conf.problems] };
  for (const st of conf.statements) {
    const [kw, name] = st.words;
    if (kw === 'global_defs') {
      const v = st.block?.find((s) => s.words[0] === 'vrrp_version');
      const n = num(v?.words[1]);
      if (v && n !== undefined) out.vrrpVersion = { value: n, file: v.file, line: v.line };
    } else if ((kw === 'track_file' || kw === 'vrrp_track_file') && name) {
      const path = st.block?.find((s) => s.words[0] === 'file')?.words[1];
      const weight = num(st.block?.find((s) => s.words[0] === 'weight')?.words[1]) ?? 1;
      out.trackFiles.push({ name, ...(path !== undefined && { path }), weight, ...where(st) });
    } else if (kw === 'vrrp_script' && name) {
      out.scripts.push({ name, weight: num(st.block?.find((s) => s.words[0] === 'weight')?.words[1]) ?? 0, ...where(st) });
    } else if (kw === 'vrrp_instance' && name) {
      out.instances.push(instance(name, st, nonce));
    }
  }
  return out;
}

const where = (s: Statement): Where => ({ file: s.file, line: s.line });
const field = <T>(value: T, s: Statement): Field<T> => ({ value, ...where(s) });

function instance(name: string, st: Statement, nonce: string): VrrpInstance {
  const i: VrrpInstance = { name, ...where(st), priority: { value: 100 }, vips: [], trackScripts: [], trackFiles: [] };
  for (const s of st.block ?? []) {
    const [kw, a] = s.words;
    switch (kw) {
      case 'state':
      case 'interface':
        if (a) i[kw] = field(a, s);
        break;
      case 'virtual_router_id':
      case 'priority':
      case 'advert_int':
      case 'version': {
        const n = kw === 'advert_int' ? Number(a) : num(a);
        if (n === undefined || Number.isNaN(n)) break;
        const key = kw === 'virtual_router_id' ? 'virtualRouterId' : kw === 'advert_int' ? 'advertInt' : kw;
        (i as unknown as Record<string, Field<number>>)[key] = field(n, s);
        break;
      }
      case 'nopreempt':
        i.nopreempt = where(s);
        break;
      case 'authentication':
        for (const a2 of s.block ?? []) {
          if (a2.words[0] === 'auth_type' && a2.words[1]) i.authType = field(a2.words[1], a2);
          if (a2.words[0] === 'auth_pass' && a2.words[1] !== undefined) i.authHash = field(keyedHash(nonce, a2.words[1].slice(0, 8)), a2);
        }
        break;
      case 'virtual_ipaddress':
        for (const v of s.block ?? []) if (v.words[0]) i.vips.push(field(v.words[0], v));
        break;
      case 'track_script':
      case 'track_file': {
        const list = kw === 'track_script' ? i.trackScripts : i.trackFiles;
        // Either a block of names (each optionally "weight N") or names on the line.
        const entries = s.block ? s.block : a ? [{ ...s, words: s.words.slice(1) }] : [];
        for (const e of entries) {
          if (!e.words[0]) continue;
          const w = e.words.indexOf('weight');
          list.push({ ...field(e.words[0], e), ...(w > 0 && num(e.words[w + 1]) !== undefined && { weight: num(e.words[w + 1]) }) });
        }
        break;
      }
    }
  }
  return i;
}

/** keepalived uses the first 8 characters of auth_pass; compared as HMAC-SHA256 keyed by the asker's nonce. */
export function keyedHash(nonce: string, pass: string): string {
  return createHmac('sha256', nonce).update(pass).digest('hex');
}

/** The address of a VIP entry ("192.168.56.70/24" -> "192.168.56.70"). */
export const vipAddress = (v: string): string => v.split('/')[0]!;
