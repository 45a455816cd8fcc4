// keepalived.conf as keepalived reads it, far enough for `doctor`: words and quoted
// strings, `{ ... }` blocks, `!` and `#` comments, `include` (globs, relative to the
// including file) followed. Every statement keeps its file and line, so a finding can
// say where. Read-only, bounded: at most MAX_FILES files of MAX_BYTES each.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';

export interface Where {
  file: string;
  line: number;
}

/** One statement: its words, and its block when it opens one. */
export interface Statement extends Where {
  words: string[];
  block?: Statement[];
}

export interface ParsedConf {
  statements: Statement[];
  /** Files read, the main one first. */
  files: string[];
  problems: Array<Where & { message: string }>;
}

const MAX_FILES = 64;
const MAX_BYTES = 1 << 20;

export type ReadText = (file: string) => string;

const readBounded: ReadText = (file) => {
  const st = statSync(file);
  if (!st.isFile()) throw new Error('not a regular file');
  if (st.size > MAX_BYTES) throw new Error(`larger than ${MAX_BYTES} bytes`);
  return readFileSync(file, 'utf8');
};

export function parseConf(file: string, read: ReadText = readBounded, expand: (pattern: string) => string[] = expandGlob): ParsedConf {
  const out: ParsedConf = { statements: [], files: [], problems: [] };
  const tokens: Array<Where & { text: string; quoted: boolean }> = [];
  const load = (f: string, from?: Where) => {
    if (out.files.includes(f)) return; // an include loop reads each file once
    if (out.files.length >= MAX_FILES) {
      out.problems.push({ ...(from ?? { file: f, line: 0 }), message: `more than ${MAX_FILES} files included; ${f} not read` });
      return;
    }
    let text: string;
    try {
      text = read(f);
    } catch (e) {
      out.problems.push({ ...(from ?? { file: f, line: 0 }), message: `cannot read ${f}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` });
      return;
    }
    out.files.push(f);
    const lines = text.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const where = { file: f, line: i + 1 };
      const words = lex(lines[i]!);
      if (words.length >= 2 && words[0]!.text === 'include' && !words[0]!.quoted) {
        const pattern = isAbsolute(words[1]!.text) ? words[1]!.text : resolve(dirname(f), words[1]!.text);
        const found = /[*?[]/.test(pattern) ? expand(pattern) : [pattern];
        for (const inc of found) load(inc, where);
        continue;
      }
      for (const w of words) tokens.push({ ...where, ...w });
    }
  };
  load(file);

  // Statements end at a line break; a `{` opens a block (on the same line or the next).
  let pos = 0;
  const block = (depth: number, opener?: Where): Statement[] => {
    const list: Statement[] = [];
    while (pos < tokens.length) {
      const t = tokens[pos]!;
      if (t.text === '}' && !t.quoted) {
        pos += 1;
        if (depth === 0) out.problems.push({ file: t.file, line: t.line, message: 'unexpected "}"' });
        else return list;
        continue;
      }
      if (t.text === '{' && !t.quoted) {
        // A block on its own line belongs to the statement before it.
        pos += 1;
        const owner = list[list.length - 1];
        const body = block(depth + 1, t);
        if (owner && !owner.block) owner.block = body;
        else out.problems.push({ file: t.file, line: t.line, message: 'a "{" that opens no statement' });
        continue;
      }
      const st: Statement = { file: t.file, line: t.line, words: [] };
      while (pos < tokens.length) {
        const w = tokens[pos]!;
        if (w.file !== st.file || w.line !== st.line || ((w.text === '{' || w.text === '}') && !w.quoted)) break;
        st.words.push(w.text);
        pos += 1;
      }
      list.push(st);
      const next = tokens[pos];
      if (next && next.text === '{' && !next.quoted && next.file === st.file && next.line === st.line) {
        pos += 1;
        st.block = block(depth + 1, next);
      }
    }
    if (depth > 0 && opener) out.problems.push({ file: opener.file, line: opener.line, message: 'this "{" is never closed' });
    return list;
  };
  out.statements = block(0);
  return out;
}

/** A line's words: "!" and "#" start a comment; "{" and "}" are words of their own; "..." is one word. */
function lex(line: string): Array<{ text: string; quoted: boolean }> {
  const words: Array<{ text: string; quoted: boolean }> = [];
  let i = 0;
  while (i < line.length) {
    const c = line[i]!;
    if (c === ' ' || c === '\t' || c === '\r') i += 1;
    else if (c === '!' || c === '#') break;
    else if (c === '{' || c === '}') {
      words.push({ text: c, quoted: false });
      i += 1;
    } else if (c === '"') {
      const end = line.indexOf('"', i + 1);
      const stop = end < 0 ? line.length : end;
      words.push({ text: line.slice(i + 1, stop), quoted: true });
      i = stop + 1;
    } else {
      let j = i;
      while (j < line.length && !' \t\r{}!#'.includes(line[j]!)) j += 1;
      words.push({ text: line.slice(i, j), quoted: false });
      i = j;
    }
  }
  return words;
}

/** `include /etc/keepalived/conf.d/*.conf`: wildcards (* ? [...]) in the last component only, sorted as glob(3) does. */
export function expandGlob(pattern: string): string[] {
  const dir = dirname(pattern);
  if (/[*?[]/.test(dir)) return [];
  const re = new RegExp(
    `^${basename(pattern)
      .replace(/[.+^${}()|\\]/g, '\\$&')
      .replace(/\*/g, '[^/]*')
      .replace(/\?/g, '[^/]')}$`,
  );
  try {
    return readdirSync(dir)
      .filter((n) => !n.startsWith('.') && re.test(n))
      .sort()
      .map((n) => join(dir, n));
  } catch {
    return [];
  }
}
