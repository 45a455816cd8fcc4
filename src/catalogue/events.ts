// Every event name the agent writes: a public interface (log queries, alert rules,
// the config's `notify.events`, README's "Log events" table). One table, so a name
// cannot be mistyped in one place and not in another: logging, metrics, alerts and the
// config's notify list all take their names from here, and a test compares it with
// the README.
import type { ActionKind } from '../policy/types.js';

type Level = 'debug' | 'info' | 'warn' | 'error';

interface EventSpec {
  /** The level(s) it is written at (README's table lists them). */
  level: Level | readonly Level[];
  /** May be sent as a notification (`notify.events`); 'default': in the default list. */
  notify?: 'default' | 'optional';
}

export const EVENTS = {
  'agent.start': { level: 'info' },
  'agent.stopping': { level: 'info' },
  'agent.stop': { level: 'info' },
  'agent.stop_problem': { level: 'warn' },
  'service.up': { level: 'info' },
  'service.down': { level: 'warn', notify: 'default' },
  'service.failed': { level: 'error', notify: 'optional' },
  'service.recovered': { level: 'info' },
  'restart.start': { level: 'info' },
  'restart.ok': { level: 'info' },
  'restart.failed': { level: 'error', notify: 'default' },
  'restart.in_place': { level: 'info' },
  'restart.left_to_systemd': { level: 'info' },
  'retry.asked': { level: 'info' },
  'diagnose.done': { level: 'info' },
  'diagnose.failed': { level: 'warn' },
  failover: { level: 'error', notify: 'default' },
  'failover.held': { level: 'error', notify: 'default' },
  handover: { level: 'warn' },
  'handover.skipped': { level: 'warn' },
  'keepalived.start': { level: 'info', notify: 'default' },
  'keepalived.stop': { level: 'warn' },
  'keepalived.running_again': { level: 'warn', notify: 'optional' },
  'vip.release': { level: 'warn' },
  'vip.reclaim': { level: 'info' },
  'vip.unserved': { level: 'error', notify: 'default' },
  'vip.served': { level: 'info' },
  'vip.split': { level: 'error', notify: 'default' },
  'vip.split_ended': { level: 'info' },
  'vip.orphaned': { level: 'error', notify: 'default' },
  'vip.orphan_ended': { level: 'info' },
  'failover.flapping': { level: 'error', notify: 'default' },
  'failover.flapping_cleared': { level: 'info' },
  'switchover.start': { level: 'warn', notify: 'default' },
  'switchover.takeback': { level: 'info' },
  'maintenance.paused': { level: 'warn', notify: 'default' },
  'maintenance.resumed': { level: 'info', notify: 'default' },
  'maintenance.reminder': { level: 'warn' },
  'maintenance.expired': { level: 'info' },
  'action.done': { level: 'info' },
  'action.failed': { level: 'error' },
  'alert.sent': { level: 'debug' },
  'alert.failed': { level: 'warn' },
  'alert.dropped': { level: 'warn' },
  'alert.suppressed': { level: 'debug' },
  'metrics.listen': { level: 'info' },
  'metrics.failed': { level: 'error' },
  'metrics.error': { level: 'warn' },
  'control.request': { level: 'debug' },
  'control.failed': { level: 'error' },
  'config.warning': { level: 'warn' },
  'config.reload': { level: 'info' },
  'config.invalid': { level: 'error' },
  'pid.vanished': { level: 'debug' },
  'pid.watch_timer': { level: 'info' },
  'unit.died': { level: 'info' },
  'poll.slow': { level: 'warn' },
  'poll.missed': { level: 'warn' },
  'poll.error': { level: 'error' },
  cron: { level: 'debug' },
  'notify.failed': { level: 'warn' },
  'systemd.unavailable': { level: 'warn' },
  'lock.held': { level: ['error', 'warn'] },
  'lock.stale': { level: 'warn' },
  'lock.release_failed': { level: 'warn' },
  'state.corrupt': { level: 'warn' },
  'state.unreadable': { level: 'warn' },
  'state.resumed': { level: 'warn' },
  'state.write_failed': { level: 'error' },
  'statedir.refused': { level: 'error' },
} as const satisfies Record<string, EventSpec>;

export type EventName = keyof typeof EVENTS;

type Notifiable = { [K in EventName]: (typeof EVENTS)[K] extends { notify: string } ? K : never }[EventName];
export type NotifyEvent = Notifiable;

const names = Object.keys(EVENTS) as EventName[];
const specOf = (n: EventName): EventSpec => EVENTS[n];

/** The events a notification can be sent for (the ones that need a human). */
export const NOTIFY_EVENTS = names.filter((n) => specOf(n).notify !== undefined) as NotifyEvent[];
/** `notify.events` when the config does not say. */
export const DEFAULT_NOTIFY_EVENTS = names.filter((n) => specOf(n).notify === 'default') as NotifyEvent[];

/** The event that says an action starts: its kind, except a restart's. */
export function actionEvent(kind: ActionKind): EventName {
  return kind === 'restart' ? 'restart.start' : kind;
}

export function isEventName(s: string): s is EventName {
  return Object.hasOwn(EVENTS, s);
}
