// Durations in the config: "500ms", "3s", "2m", "1h", or a bare number of seconds.
const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const PATTERN = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)$/;

/** Milliseconds, or an error message saying what was expected. */
export function parseDuration(value: unknown): number | string {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) return `expected a non-negative number of seconds, got ${value}`;
    return Math.round(value * 1000);
  }
  if (typeof value !== 'string') return `expected a duration like "500ms", "3s", "2m", "1h" or a number of seconds, got ${describe(value)}`;
  const m = PATTERN.exec(value.trim());
  if (!m) return `expected a duration like "500ms", "3s", "2m", "1h" or a number of seconds, got "${value}"`;
  return Math.round(Number(m[1]) * UNITS[m[2]!]!);
}

/** The shortest exact spelling: 90000 -> "90s", 120000 -> "2m", 1500 -> "1500ms". */
export function formatDuration(ms: number): string {
  if (ms !== 0 && ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms !== 0 && ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

export function describe(value: unknown): string {
  if (value === undefined) return 'nothing (the key is missing)';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `"${value}"`;
  return `${typeof value} ${String(value)}`;
}

/** A duration for people: 850ms, 1.5s, 21s, 2m05s, 3h, 2d4h. */
export function human(ms: number): string {
  ms = Math.max(0, Math.round(ms));
  if (ms < 1000) return `${ms}ms`;
  const s = Math.floor(ms / 1000);
  if (s < 60) return ms < 10_000 ? `${Math.round(ms / 100) / 10}s` : `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 ? `${m}m${String(s % 60).padStart(2, '0')}s` : `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 24) return m % 60 ? `${h}h${String(m % 60).padStart(2, '0')}m` : `${h}h`;
  const d = Math.floor(h / 24);
  return h % 24 ? `${d}d${h % 24}h` : `${d}d`;
}
