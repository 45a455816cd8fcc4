// The agent's log: pino JSON lines on stdout, one per event (field `event`).
import { existsSync, readFileSync } from 'node:fs';

export interface AgentEvent {
  event: string;
  service?: string;
  reason?: string;
  /** pino's timestamp as logged: epoch ms, or an ISO string with pino's isoTime. */
  time?: number | string;
  /** `time` as epoch ms (added by the parser; undefined when absent or unparsable). */
  t?: number;
  [field: string]: unknown;
}

/** Parses JSON lines; lines that are not JSON objects with an `event` string are skipped. */
export function parseEventLines(text: string): AgentEvent[] {
  const out: AgentEvent[] = [];
  for (const line of text.split('\n')) {
    const s = line.trim();
    if (!s.startsWith('{')) continue;
    try {
      const o = JSON.parse(s) as Record<string, unknown>;
      if (typeof o.event !== 'string') continue;
      const t = typeof o.time === 'number' ? o.time : typeof o.time === 'string' ? Date.parse(o.time) : NaN;
      out.push({ ...(o as AgentEvent), t: Number.isFinite(t) ? t : undefined });
    } catch {
      // a partial last line while the agent is writing, or not JSON
    }
  }
  return out;
}

export function readEventFile(file: string): AgentEvent[] {
  return existsSync(file) ? parseEventLines(readFileSync(file, 'utf8')) : [];
}

/** Events matching `event` (and `service`, when given). */
export function eventsNamed(events: AgentEvent[], event: string, service?: string): AgentEvent[] {
  return events.filter((e) => e.event === event && (service === undefined || e.service === service));
}
