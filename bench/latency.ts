// Item 3: detection latency of the daemon (`node dist/cli.js run --log-level debug`,
// interval 1s, HTTP timeout 500ms): from the tomcat stand-in being SIGKILLed, or hung
// with SIGSTOP, to the daemon's `service.down` line for tomcat, with fall 1 and fall 2.
// A killed process is the 250 ms pid watch's business (src/agent/pid-watch.ts): the
// watch sees the pid gone, kicks a poll at once, and the process probe's "gone" counts
// the service down without waiting for `fall`; the target is the issue's "noticed
// within 250 ms (median) of its death, at interval 1s". A hung one is still alive for
// the watch: only the HTTP probe's timeout finds it, and `fall` applies.
// The moment of the signal is taken from this process's clock right before
// process.kill(); the moment of detection is the log line's own "time" (same machine
// clock); the debug level adds the watch's `pid.vanished` line, to see which path
// noticed. Each repetition waits a random 0-1000 ms first, so the signal lands at a
// random phase of both the 1 s poll period and the 250 ms watch period; afterwards the
// daemon's restart brings tomcat back before the next one. The restart budget (5
// restarts in 10 minutes) would turn the sixth into a failover, so every 5
// repetitions get a fresh daemon and state.
import { PID_WATCH_MS } from '../src/agent/pid-watch.js';
import { Daemon, type LogLine } from './lib/daemon.js';
import { StandInHost } from './lib/host.js';
import { sleep } from './lib/ns.js';
import { table, type Section, type SummaryRow } from './lib/report.js';
import type { Settings } from './lib/settings.js';
import { fmt, max, median, min, ms } from './lib/stats.js';

const INTERVAL_MS = 1000;
const HTTP_TIMEOUT = '500ms';
const HTTP_TIMEOUT_MS = 500;
const PER_DAEMON = 5;
/** The target for a killed process: noticed within this (median), at interval 1s. */
const KILL_TARGET_MS = 250;

interface Rep {
  latency: number;
  /** ms after the top of the wall-clock second (node-cron's poll ticks are on the second). */
  phase: number;
  /** signal -> the watch's pid.vanished line for tomcat, if one came before service.down */
  watchMs?: number;
  reason: string;
}

interface Case {
  kind: 'kill' | 'hang';
  fall: 1 | 2;
  reps: Rep[];
}

export async function latency(s: Settings, log: (m: string) => void): Promise<Section> {
  const cases: Case[] = [];
  const host = await StandInHost.create();
  try {
    for (const kind of ['kill', 'hang'] as const) {
      const reps = kind === 'kill' ? s.killReps : s.latencyReps;
      for (const fall of [1, 2] as const) {
        log(`latency: ${kind}, fall ${fall}, ${reps} repetitions`);
        const c: Case = { kind, fall, reps: [] };
        for (let done = 0, chunk = 0; done < reps; chunk++) {
          const n = Math.min(PER_DAEMON, reps - done);
          await repetitions(host, c, n, `${kind}-f${fall}-${chunk}`);
          done += n;
        }
        cases.push(c);
      }
    }
  } finally {
    host.destroy();
  }
  return render(cases);
}

const isTomcatVanished = (l: LogLine) => l.event === 'pid.vanished' && Array.isArray(l.gone) && (l.gone as Array<{ owner?: string }>).some((g) => g.owner === 'tomcat');

async function repetitions(host: StandInHost, c: Case, n: number, tag: string): Promise<void> {
  const config = host.config({ interval: '1s', fall: c.fall, rise: 1, httpTimeout: HTTP_TIMEOUT, tag });
  const d = await Daemon.start(host, config, ['--log-level', 'debug']);
  try {
    await d.waitFor('agent.start', (l) => l.event === 'agent.start', 15_000);
    await d.waitFor('tomcat up', (l) => l.event === 'service.up' && l.service === 'tomcat', 15_000);
    for (let i = 0; i < n; i++) {
      // Random phase: uniform over one poll period, i.e. over four watch periods.
      await sleep(1500 + Math.random() * INTERVAL_MS);
      const pid = host.tomcatHostPid();
      const from = d.lines.length;
      const t0 = Date.now();
      process.kill(pid, c.kind === 'kill' ? 'SIGKILL' : 'SIGSTOP');
      const down = await d.waitFor(`service.down tomcat after ${c.kind}`, (l) => l.event === 'service.down' && l.service === 'tomcat', 15_000, from);
      const vanished = d.lines.slice(from, down.index).find(isTomcatVanished);
      c.reps.push({
        latency: Date.parse(down.line.time!) - t0,
        phase: t0 % 1000,
        ...(vanished?.time && { watchMs: Date.parse(vanished.time) - t0 }),
        reason: String(down.line.reason ?? ''),
      });
      // The daemon restarts it (the restart script SIGKILLs a stopped one first).
      await d.waitFor('restart.ok tomcat', (l) => (l.event === 'restart.ok' || l.event === 'service.up') && l.service === 'tomcat', 30_000, down.index);
      if (c.kind === 'hang') {
        try {
          process.kill(pid, 'SIGKILL'); // in case the restart did not (it does)
        } catch {
          // gone
        }
      }
    }
  } finally {
    await d.stop();
  }
}

/** The worst case expected from the design, for the "bound" column. */
function bound(c: Case): number {
  // Killed: up to one watch period until a tick sees the pid gone, then one poll (a
  // ps-list scan to confirm no such process remains, the HTTP connection refused).
  if (c.kind === 'kill') return PID_WATCH_MS + 100;
  // Hung: up to one interval to the next tick, (fall - 1) more intervals, the HTTP timeout.
  return INTERVAL_MS * c.fall + HTTP_TIMEOUT_MS + 100;
}

const label = (c: Case) => (c.kind === 'kill' ? 'SIGKILL (vanished)' : 'SIGSTOP (hung)');

function render(cases: Case[]): Section {
  const rows: SummaryRow[] = [];
  const lat = (c: Case) => c.reps.map((r) => r.latency);
  const kills = cases.filter((c) => c.kind === 'kill');
  const body: string[] = [
    `Daemon: \`node dist/cli.js run --log-level debug\` (debug only to log the pid watch's \`pid.vanished\` line), interval 1s, HTTP timeout ${HTTP_TIMEOUT}, rise 1, otherwise the shipped-style config, on a stand-in host. Latency = the \`time\` of the \`service.down\` line for tomcat minus the moment the signal was sent. Before each signal a random 1.5-2.5 s wait, so it lands at a random phase of the 1 s poll period and of the ${PID_WATCH_MS} ms watch period (the phases, ms after the top of the second on which node-cron ticks, are listed below).`,
    '',
    `- **SIGKILL**: the process vanishes. The pid watch confirms the known pids through \`/proc/<pid>/stat\` every ${PID_WATCH_MS} ms; the next tick finds tomcat's pid gone (a zombie counts as gone) and kicks a poll at once; the process probe finds no \`java\` Bootstrap process (a ps-list scan confirms it), the HTTP connection is refused, and the service is down at once: a process that no longer exists cannot flicker back, so \`fall\` does not apply. Expected: about half a watch period plus one poll on average, at most ${PID_WATCH_MS} ms plus the poll. Target (the issue): **≤ ${KILL_TARGET_MS} ms median at interval 1s**. The fall 2 row is kept on purpose, with the same target: it shows that \`fall\` no longer delays a vanished process (in the committed run from before the watch, commit 04c8783, fall 2 took one more interval: 1596 ms median against 893 ms with fall 1).`,
    `- **SIGSTOP**: the process hangs but exists, so the watch sees nothing; only the HTTP probe's ${HTTP_TIMEOUT} timeout finds it, at the next poll, and \`fall\` applies. Bound as before: one interval to the next tick, (fall − 1) more intervals, the timeout, plus 100 ms.`,
    '',
    table(
      ['case', 'fall', 'reps', 'median', 'max', 'min', 'expected bound', 'all latencies (ms)'],
      cases.map((c) => [label(c), c.fall, c.reps.length, ms(median(lat(c))), ms(max(lat(c))), ms(min(lat(c))), `≤ ${bound(c)} ms`, lat(c).join(', ')]),
    ),
    '',
  ];
  if (kills.length) {
    body.push(
      'Which path noticed each kill: a `pid.vanished` line for tomcat logged before the `service.down` means the watch did; without one, a scheduled poll got there first (its own /proc check of the known pids found the pid gone).',
      '',
      table(
        ['case', 'fall', 'noticed by the watch', 'signal → pid.vanished (median / max)', 'pid.vanished → service.down (median / max)', 'signal phase in the second (ms)'],
        kills.map((c) => {
          const byWatch = c.reps.filter((r) => r.watchMs !== undefined);
          const toWatch = byWatch.map((r) => r.watchMs!);
          const toDown = byWatch.map((r) => r.latency - r.watchMs!);
          return [label(c), c.fall, `${byWatch.length} of ${c.reps.length}`, byWatch.length ? `${ms(median(toWatch))} / ${ms(max(toWatch))}` : '-', byWatch.length ? `${ms(median(toDown))} / ${ms(max(toDown))}` : '-', c.reps.map((r) => r.phase).join(', ')];
        }),
      ),
      '',
    );
  }
  body.push('The `reason` of a `service.down` line, one example per case:', '', ...cases.map((c) => `- ${c.kind}, fall ${c.fall}: \`${(c.reps[0]?.reason ?? '').slice(0, 300)}\``), '');
  for (const c of cases) {
    const med = median(lat(c));
    if (c.kind === 'kill') {
      rows.push({
        item: '3. detection',
        measure: `SIGKILL → service.down (pid watch), fall ${c.fall}, interval 1s`,
        median: ms(med),
        max: ms(max(lat(c))),
        target: `≤ ${KILL_TARGET_MS} ms median`,
        verdict: med <= KILL_TARGET_MS ? `met (max ${max(lat(c)) <= bound(c) ? 'within' : 'over'} the ${bound(c)} ms bound)` : `missed by ${ms(med - KILL_TARGET_MS)} (median)`,
      });
    } else {
      rows.push({
        item: '3. detection',
        measure: `SIGSTOP → service.down (HTTP timeout ${HTTP_TIMEOUT}), fall ${c.fall}`,
        median: ms(med),
        max: ms(max(lat(c))),
        target: `(reported; bound ${bound(c)} ms)`,
        verdict: max(lat(c)) <= bound(c) ? 'within bound' : `over bound by ${ms(max(lat(c)) - bound(c))}`,
      });
    }
  }
  const all = kills.flatMap(lat);
  if (all.length) body.push(`All ${all.length} kills together: median ${ms(median(all))}, max ${ms(max(all))}; ${fmt((all.filter((x) => x <= KILL_TARGET_MS).length / all.length) * 100)} % within ${KILL_TARGET_MS} ms.`, '');
  return { title: '3. Detection latency', body: body.join('\n'), rows };
}
