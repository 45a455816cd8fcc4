// What an alert says: the event's own fields, plus where and when, as one JSON object
// that both the webhook body and the command's stdin carry.
import type { PolicyEvent } from '../policy/types.js';

export interface AlertPayload {
  event: string;
  level: string;
  host: string;
  /** ISO 8601, when the alert was raised (not when it was delivered). */
  time: string;
  service?: string;
  reason?: string;
  /** Repeats of this event for this service held back since the last alert (dedupe). */
  suppressed?: number;
  /** One human line, so chat webhooks (Slack, Mattermost) that show `text` need no template. */
  text: string;
  [field: string]: unknown;
}

export function buildPayload(e: PolicyEvent, ctx: { host: string; now: number; suppressed: number }): AlertPayload {
  // `msg` is the log line's; `text` replaces it here. host/time are ours, never the event's.
  const { event, level, service, reason, msg: _msg, host: _host, time: _time, suppressed: _s, text: _text, ...rest } = e;
  const about = service ?? (Array.isArray(rest.services) ? rest.services.join(', ') : undefined);
  const text = `[${ctx.host}] ${event}${about ? ` ${about}` : ''}${reason ? `: ${reason}` : ''}${ctx.suppressed > 0 ? ` (${ctx.suppressed} repeats suppressed)` : ''}`;
  return {
    event,
    level,
    host: ctx.host,
    time: new Date(ctx.now).toISOString(),
    service,
    reason,
    ...rest,
    suppressed: ctx.suppressed > 0 ? ctx.suppressed : undefined,
    text,
  };
}
