// What each measurement hands back to run.ts: a section of results.md, and rows for
// the summary table at its top.
import { fmt } from './stats.js';

export interface SummaryRow {
  item: string;
  measure: string;
  median: string;
  max: string;
  target: string;
  /** "met", "missed: ...", "n/a", "skipped: ..." */
  verdict: string;
}

export interface Section {
  title: string;
  body: string;
  rows: SummaryRow[];
  /** Numbers a later item builds on (e.g. the daemon's CPU per hour for the pid watch item). */
  data?: Record<string, number>;
}

export function table(head: string[], rows: Array<Array<string | number>>): string {
  const cell = (c: string | number) => (typeof c === 'number' ? (Number.isInteger(c) ? String(c) : fmt(c)) : c).replace(/\|/g, '\\|');
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`)].join('\n');
}

export function skipped(title: string, item: string, reason: string): Section {
  return { title, body: `Skipped: ${reason}\n`, rows: [{ item, measure: '-', median: '-', max: '-', target: '-', verdict: `skipped: ${reason}` }] };
}

/** Parses the JSON line a worker printed last. */
export function lastJson<T>(stdout: string, what: string): T {
  const line = stdout.trim().split('\n').filter(Boolean).pop();
  if (!line) throw new Error(`${what}: no output`);
  try {
    return JSON.parse(line) as T;
  } catch {
    throw new Error(`${what}: not JSON: ${line.slice(0, 300)}`);
  }
}
