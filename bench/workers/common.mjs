// Shared by the workers (plain ESM run by bare node, so no loader skews what they
// measure): the built agent from dist/, CPU time of this process and its children.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const DIST = process.env.BENCH_DIST ?? join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..', '..', 'dist');
export const dist = (m) => import(pathToFileURL(join(DIST, m)).href);

const TICK_MS = 1000 / Number(process.env.BENCH_CLK_TCK || 100);

/**
 * CPU time in ms: self = user+system of every thread of this process (µs precision,
 * process.cpuUsage); children = cutime+cstime of the reaped children, e.g. the `ps`
 * runs of ps-list (from /proc/self/stat, so in 10 ms ticks: a sum over many polls is
 * exact to one tick, a single poll's share is quantized).
 */
export function cpuNow() {
  const u = process.cpuUsage();
  const rest = readFileSync('/proc/self/stat', 'utf8');
  const f = rest.slice(rest.lastIndexOf(')') + 2).split(' ');
  return { self: (u.user + u.system) / 1000, children: (Number(f[13]) + Number(f[14])) * TICK_MS };
}

export const cpuDelta = (a, b) => ({ self: b.self - a.self, children: b.children - a.children, total: b.self - a.self + b.children - a.children });

export function rssMB() {
  const kb = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
  return Number(kb) / 1024;
}

/** A logger that discards (the steady state logs nothing; events are counted). */
export async function quietLogger(counter) {
  const { createLogger } = await dist('log.js');
  return createLogger({ level: 'info', write: () => void (counter && (counter.lines += 1)) });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function emit(obj) {
  process.stdout.write(`${JSON.stringify(obj)}\n`);
}

/**
 * The environment cron gives a job (HOME, LOGNAME, PATH=/usr/bin:/bin, SHELL=/bin/sh),
 * which is where `check` runs, plus the bench's own BENCH_* knobs. Not the shell's:
 * an inherited NODE_EXTRA_CA_CERTS (set on this machine) makes every node start read
 * and parse the whole CA bundle, about 50 ms that no cron job and no systemd unit pays.
 */
export function cronEnv(env = process.env) {
  const bench = Object.fromEntries(Object.entries(env).filter(([k]) => k.startsWith('BENCH_')));
  return { HOME: env.HOME ?? '/root', LOGNAME: env.LOGNAME ?? env.USER ?? 'root', PATH: '/usr/bin:/bin', SHELL: '/bin/sh', ...bench };
}
