// The config file's schema: every key, its type, its default and its limits.
// Values come out normalised: durations in ms, regexes/URLs checked, tcp split.
import { isAbsolute } from 'node:path';
import { z } from 'zod';
import { describe, parseDuration } from './duration.js';
import { cronExpression, VALID_INTERVALS } from './interval.js';
import { regexProblem } from './regex.js';
import { DEFAULT_NOTIFY_EVENTS, NOTIFY_EVENTS } from '../catalogue/events.js';

const duration = (fallback?: string) =>
  z.unknown().optional().transform((value, ctx) => {
    const ms = parseDuration(value === undefined ? fallback : value);
    if (typeof ms === 'string') {
      ctx.addIssue({ code: 'custom', message: ms });
      return z.NEVER;
    }
    return ms;
  });

// zod's own messages are terse ("Invalid input"); these say what was expected.
const text = (what: string) =>
  z.unknown().transform((value, ctx) => {
    if (typeof value === 'string' && value.length > 0) return value;
    ctx.addIssue({ code: 'custom', message: `expected ${what}, got ${describe(value)}` });
    return z.NEVER;
  });

// RE2 syntax, matched in linear time (see regex.ts): no pattern can stall the agent.
const regex = text('a regular expression').superRefine((source, ctx) => {
  const problem = regexProblem(source);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

const absolutePath = text('an absolute path').superRefine((p, ctx) => {
  if (!isAbsolute(p)) ctx.addIssue({ code: 'custom', message: `expected an absolute path, got "${p}"` });
});

const count = (min: number, max: number) =>
  z.unknown().transform((value, ctx) => {
    if (typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max) return value;
    ctx.addIssue({ code: 'custom', message: `expected a whole number from ${min} to ${max}, got ${describe(value)}` });
    return z.NEVER;
  });

const flag = z.unknown().transform((value, ctx) => {
  if (typeof value === 'boolean') return value;
  ctx.addIssue({ code: 'custom', message: `expected true or false, got ${describe(value)}` });
  return z.NEVER;
});

// argv, never a shell string: the first word must be an absolute path so PATH cannot redirect root.
const argv = z.unknown().transform((value, ctx) => {
  if (typeof value === 'string') {
    ctx.addIssue({ code: 'custom', message: `expected a list of words (argv), e.g. [/usr/bin/systemctl, restart, tomcat10], got the string "${value}"; commands never go through a shell` });
    return z.NEVER;
  }
  if (!Array.isArray(value) || value.length === 0 || !value.every((w) => typeof w === 'string')) {
    ctx.addIssue({ code: 'custom', message: `expected a non-empty list of strings (argv), got ${describe(value)}` });
    return z.NEVER;
  }
  if (!isAbsolute(value[0] as string)) {
    ctx.addIssue({ code: 'custom', message: `the program must be an absolute path (it runs as root, PATH is not searched), got "${value[0]}"` });
    return z.NEVER;
  }
  return value as string[];
});

const oneOf = <T extends string>(values: readonly T[], fallback: T) =>
  z.unknown().optional().transform((value, ctx): T => {
    if (value === undefined) return fallback;
    if (typeof value === 'string' && (values as readonly string[]).includes(value)) return value as T;
    ctx.addIssue({ code: 'custom', message: `expected one of ${values.join(', ')}, got ${describe(value)}` });
    return z.NEVER;
  });

const unitName = text('a systemd unit name, e.g. tomcat10.service').superRefine((u, ctx) => {
  if (!/^[A-Za-z0-9:_.@\\-]+\.(service|scope)$/.test(u)) ctx.addIssue({ code: 'custom', message: `expected a systemd service or scope unit name, e.g. tomcat10.service, got "${u}"` });
});

// A unit the agent starts, stops or restarts as a systemd job (over D-Bus, or
// `systemctl` without a bus): a service unit, named in full.
const jobUnit = text('a systemd service unit name, e.g. tomcat10.service').superRefine((u, ctx) => {
  if (!/^[A-Za-z0-9:_.@\\-]+\.service$/.test(u)) {
    const hint = /^[A-Za-z0-9:_@\\-]+$/.test(u) ? `; did you mean ${u}.service?` : '';
    ctx.addIssue({ code: 'custom', message: `expected a systemd service unit name, e.g. tomcat10.service, got "${u}"${hint}` });
  }
});

/**
 * Exactly one of `command` (argv, forked) and `unit` (a systemd job): `what` names the
 * job, e.g. "restart", for the message.
 */
const commandOrUnit = (what: string) => (o: { command?: unknown; unit?: unknown }, ctx: z.RefinementCtx) => {
  if (o.command !== undefined && o.unit !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['unit'], message: `give either command (a program to run) or unit (a systemd ${what} job), not both` });
  } else if (o.command === undefined && o.unit === undefined) {
    ctx.addIssue({ code: 'custom', message: `expected command: [...] (argv, e.g. [/usr/bin/systemctl, ${what}, tomcat10]) or unit: <name>.service (a systemd ${what} job over D-Bus), got neither` });
  }
};

const processMatch = z.strictObject({
  name: text('an executable name, e.g. java').superRefine((n, ctx) => {
    if (n.includes('/')) ctx.addIssue({ code: 'custom', message: `expected a bare executable name (no "/"), got "${n}"` });
  }),
  args: regex.optional(),
  pidfile: absolutePath.optional(),
  // own: only processes in the agent's own pid namespace (a java in a container on
  // this host is not this host's tomcat); any: every process /proc shows.
  namespace: oneOf(['own', 'any'] as const, 'own'),
  // Only the processes in this systemd unit's cgroup: no decoy can match.
  unit: unitName.optional(),
});

const url = text('a URL').superRefine((u, ctx) => {
  let parsed: URL;
  try {
    parsed = new URL(u);
  } catch {
    ctx.addIssue({ code: 'custom', message: `invalid URL "${u}"` });
    return;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    ctx.addIssue({ code: 'custom', message: `expected an http:// or https:// URL, got "${u}"` });
  }
});

// A health endpoint on this host answers in milliseconds: half a second without an
// answer is a hang (fall x timeout: a hung tomcat is down after about 1 s). The VIP,
// asked across the network, keeps a second.
const httpCheckOf = (timeout: string) => z.strictObject({
  url,
  timeout: duration(timeout),
  expectStatus: z
    .array(count(100, 599))
    .min(1, 'expected at least one status code')
    .optional(),
  bodyMatches: regex.optional(),
  digest: text('an MD5 digest').superRefine((d, ctx) => {
    if (!/^[0-9a-fA-F]{32}$/.test(d)) ctx.addIssue({ code: 'custom', message: `expected 32 hex digits (an MD5 digest), got "${d}"` });
  }).transform((d) => d.toLowerCase()).optional(),
  tlsVerify: flag.default(true),
});
const httpCheck = httpCheckOf('500ms');

export interface TcpTarget {
  host: string;
  port: number;
}

export function parseHostPort(value: string): TcpTarget | string {
  const m = /^(?:\[([^\]]+)\]|([^:\s]+)):(\d+)$/.exec(value.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || port < 1 || port > 65535) return `expected "host:port" (IPv6 as "[::1]:8009"), got "${value}"`;
  return { host: (m[1] ?? m[2])!, port };
}

const hostPortOf = (what: string) => text(what).transform((v, ctx) => {
  const t = parseHostPort(v);
  if (typeof t === 'string') {
    ctx.addIssue({ code: 'custom', message: t });
    return z.NEVER;
  }
  return t;
});
const hostPort = hostPortOf('"host:port"');

const tcpObject = z.strictObject({ address: hostPort, timeout: duration('2s') });

// Either "host:port" or { address, timeout }; dispatched by hand so the inner
// problem (bad port, unknown key) reaches the operator instead of "no union matched".
const tcpCheck = z.unknown().transform((value, ctx) => {
  if (typeof value === 'string') {
    const t = parseHostPort(value);
    if (typeof t !== 'string') return { ...t, timeout: 2000 };
    ctx.addIssue({ code: 'custom', message: t });
    return z.NEVER;
  }
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const r = tcpObject.safeParse(value);
    if (r.success) return { ...r.data.address, timeout: r.data.timeout };
    for (const issue of r.error.issues) ctx.addIssue({ ...issue, path: issue.path } as never);
    return z.NEVER;
  }
  ctx.addIssue({ code: 'custom', message: `expected "host:port" or { address: "host:port", timeout: 2s }, got ${describe(value)}` });
  return z.NEVER;
});

const command = (timeout: string) => z.strictObject({ command: argv, timeout: duration(timeout) });

// keepalived.start / keepalived.stop: a command, or a start/stop job of a unit.
const commandOrJob = (timeout: string, what: 'start' | 'stop') =>
  z.strictObject({ command: argv.optional(), unit: jobUnit.optional(), timeout: duration(timeout) }).superRefine(commandOrUnit(what));

const restart = z.strictObject({
  command: argv.optional(),
  // A restart job of this unit over the daemon's D-Bus connection instead of a command
  // (systemctl restart <unit> forked when there is no bus).
  unit: jobUnit.optional(),
  timeout: duration('60s'),
  grace: duration('90s'),
  attempts: count(1, 100).default(1),
  // Run before restarting a service whose process is alive but unhealthy (a hung JVM),
  // "{pid}" in a word replaced by its pid, e.g. [/usr/bin/jcmd, "{pid}", Thread.print]:
  // the evidence survives the restart in stateDir/output/.
  diagnose: z.array(z.strictObject({ command: argv, timeout: duration('10s') })).max(4, 'at most 4 diagnose commands').optional(),
}).superRefine(commandOrUnit('restart'));

const serviceName = /^[A-Za-z0-9_.-]+$/;

/** A load balancer runs a handful; every one is probed every interval. */
export const MAX_SERVICES = 1000;

const service = z
  .strictObject({
    critical: flag.default(true),
    process: processMatch.optional(),
    http: httpCheck.optional(),
    tcp: tcpCheck.optional(),
    fall: count(1, 100).default(2),
    rise: count(1, 100).default(2),
    // After a failed probe the service is asked again this soon, not at the next tick,
    // until `fall` failed probes in a row make it down (keepalived's delay_before_retry).
    retryDelay: duration('100ms'),
    restart: restart.optional(),
  })
  .superRefine((s, ctx) => {
    if (!s.process && !s.http && !s.tcp) {
      ctx.addIssue({ code: 'custom', message: 'a service needs at least one probe: process, http or tcp' });
    }
  });

const listenAddress = hostPortOf('"host:port", e.g. 127.0.0.1:9120');


const notifyEvent = text('an event name').superRefine((e, ctx) => {
  if (!(NOTIFY_EVENTS as readonly string[]).includes(e)) ctx.addIssue({ code: 'custom', message: `unknown event "${e}"; expected one of: ${NOTIFY_EVENTS.join(', ')}` });
});

const notify = z
  .strictObject({
    webhook: z
      .strictObject({
        url,
        timeout: duration('5s'),
        retries: count(0, 10).default(3),
      })
      .optional(),
    // The event as JSON on stdin; argv, never a shell.
    command: command('10s').optional(),
    events: z.array(notifyEvent).min(1, 'expected at least one event').default(DEFAULT_NOTIFY_EVENTS),
    // The same event for the same service is sent at most once per window.
    dedupe: duration('5m'),
  })
  .superRefine((n, ctx) => {
    if (!n.webhook && !n.command) ctx.addIssue({ code: 'custom', message: 'notify needs a webhook, a command, or both' });
  });

export const configSchema = z.strictObject({
  interval: duration('1s').superRefine((ms, ctx) => {
    if (cronExpression(ms) === null) {
      ctx.addIssue({
        code: 'custom',
        message: `node-cron polls on whole seconds and cannot hit ${ms} ms evenly; use one of: ${VALID_INTERVALS.join(', ')}`,
      });
    }
  }),
  stateDir: absolutePath.default('/var/lib/ha-watchdog'),
  services: z
    .record(
      z.string().superRefine((name, ctx) => {
        if (!serviceName.test(name)) ctx.addIssue({ code: 'custom', message: `service names may use letters, digits, "_", "-" and "." only, got "${name}"` });
        if (name === 'keepalived') ctx.addIssue({ code: 'custom', message: 'keepalived is configured in the top-level "keepalived" section, not as a service' });
      }),
      service,
    )
    .superRefine((services, ctx) => {
      const n = Object.keys(services).length;
      if (n === 0) ctx.addIssue({ code: 'custom', message: 'expected at least one service' });
      if (n > MAX_SERVICES) ctx.addIssue({ code: 'custom', message: `at most ${MAX_SERVICES} services, got ${n}: the agent probes every one of them every interval` });
    }),
  keepalived: z.strictObject({
    process: processMatch.default({ name: 'keepalived', namespace: 'own' }),
    start: commandOrJob('60s', 'start'),
    stop: commandOrJob('60s', 'stop').optional(),
    // The VIP as clients reach it. Probed every poll; after a failover it tells whether
    // the peer took over, or whether no healthy host remains.
    vip: httpCheckOf('1s').optional(),
    // stop: stop keepalived to move the VIP (the design card's way). track-file: write
    // 1 into a keepalived track_file (weight 0 -> FAULT, the VIP moves while keepalived
    // keeps running) and 0 to take it back.
    control: oneOf(['stop', 'track-file'] as const, 'stop'),
    trackFile: absolutePath.default('/run/ha-watchdog/keepalived.track'),
    // keepalived's own config, read by `doctor` (and summarized for the peer's doctor).
    config: absolutePath.default('/etc/keepalived/keepalived.conf'),
  }),
  failover: z
    .strictObject({
      // auto: per failure, whichever costs clients less (the service's learned start
      // time against a handover), needs the peer guard; restart-first without it.
      // restart-first: restart here, move the VIP only when that fails (the seed's order).
      // handover-first: move the VIP at once when the peer is healthy, then restart.
      order: oneOf(['auto', 'restart-first', 'handover-first'] as const, 'auto'),
      // At most this many VIP releases by this host in an hour; past that the VIP stays
      // where it is (failover.flapping) until the hour passes or `resume`.
      flapLimit: count(1, 100).default(6),
    })
    .default({ order: 'auto', flapLimit: 6 }),
  // Prometheus text at /metrics and a read-only /healthz; off unless configured.
  metrics: z.strictObject({ listen: listenAddress }).optional(),
  notify: notify.optional(),
  // The other host's /healthz, asked before giving up the VIP.
  peer: z
    .strictObject({
      url,
      timeout: duration('1s'),
      // true: a peer that cannot be asked counts as unhealthy (the VIP stays here).
      required: flag.default(false),
    })
    .optional(),
});

export type ConfigInput = z.input<typeof configSchema>;
export type ParsedConfig = z.output<typeof configSchema>;
