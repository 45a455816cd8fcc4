// Item 3: detection latency of the daemon (`node dist/cli.js run`, interval 1s, HTTP
// timeout 500ms): from the tomcat stand-in being SIGKILLed, or hung with SIGSTOP, to
// the daemon's `service.down` line for tomcat, with fall 1 and fall 2. The moment of
// the signal is taken from this process's clock right before process.kill(); the
// moment of detection is the log line's own "time" (same machine clock). Each
// repetition waits a random 0-1000 ms first, so the signal lands at a random phase of
// the poll period; afterwards the daemon's restart brings tomcat back (restart.ok)
// before the next one. The restart budget (5 restarts in 10 minutes) would turn the
// sixth into a failover, so every 5 repetitions get a fresh daemon and state.
import { Daemon } from './lib/daemon.js';
import { StandInHost } from './lib/host.js';
import { sleep } from './lib/ns.js';
import { table, type Section, type SummaryRow } from './lib/report.js';
import type { Settings } from './lib/settings.js';
import { max, median, min, ms } from './lib/stats.js';

const INTERVAL_MS = 1000;
const HTTP_TIMEOUT = '500ms';
const PER_DAEMON = 5;

interface Case {
  kind: 'kill' | 'hang';
  fall: 1 | 2;
  latencies: number[];
  reasons: string[];
}

export async function latency(s: Settings, log: (m: string) => void): Promise<Section> {
  const cases: Case[] = [];
  const host = await StandInHost.create();
  try {
    for (const kind of ['kill', 'hang'] as const) {
      for (const fall of [1, 2] as const) {
        log(`latency: ${kind}, fall ${fall}, ${s.latencyReps} repetitions`);
        const c: Case = { kind, fall, latencies: [], reasons: [] };
        for (let done = 0, chunk = 0; done < s.latencyReps; chunk++) {
          const n = Math.min(PER_DAEMON, s.latencyReps - done);
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

async function repetitions(host: StandInHost, c: Case, n: number, tag: string): Promise<void> {
  const config = host.config({ interval: '1s', fall: c.fall, rise: 1, httpTimeout: HTTP_TIMEOUT, tag });
  const d = await Daemon.start(host, config);
  try {
    await d.waitFor('agent.start', (l) => l.event === 'agent.start', 15_000);
    await d.waitFor('tomcat up', (l) => l.event === 'service.up' && l.service === 'tomcat', 15_000);
    for (let i = 0; i < n; i++) {
      await sleep(1500 + Math.random() * INTERVAL_MS);
      const pid = host.tomcatHostPid();
      const from = d.lines.length;
      const t0 = Date.now();
      process.kill(pid, c.kind === 'kill' ? 'SIGKILL' : 'SIGSTOP');
      const down = await d.waitFor(`service.down tomcat after ${c.kind}`, (l) => l.event === 'service.down' && l.service === 'tomcat', 15_000, from);
      c.latencies.push(Date.parse(down.line.time!) - t0);
      c.reasons.push(String(down.line.reason ?? ''));
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

function render(cases: Case[]): Section {
  const rows: SummaryRow[] = [];
  const body: string[] = [
    `Daemon: \`node dist/cli.js run\`, interval 1s, HTTP timeout ${HTTP_TIMEOUT}, rise 1, otherwise the shipped-style config, on a stand-in host. Latency = the \`time\` of the \`service.down\` line for tomcat minus the moment the signal was sent. The expected worst case is: the wait for the next tick (up to one interval), plus (fall − 1) intervals, plus the poll itself — for a killed process the probes fail at once (/proc says the pid is gone, a scan confirms no \`java\` Bootstrap process remains, the HTTP connection is refused); for a hung one, the HTTP probe's ${HTTP_TIMEOUT} timeout.`,
    '',
    table(
      ['case', 'fall', 'reps', 'median', 'max', 'min', 'expected bound', 'all latencies (ms)'],
      cases.map((c) => {
        const bound = INTERVAL_MS * c.fall + (c.kind === 'hang' ? 500 : 0) + 100;
        return [c.kind === 'kill' ? 'SIGKILL' : 'SIGSTOP (hung)', c.fall, c.latencies.length, ms(median(c.latencies)), ms(max(c.latencies)), ms(min(c.latencies)), `≤ ${bound} ms`, c.latencies.join(', ')];
      }),
    ),
    '',
    'The `reason` of a `service.down` line, one example per case:',
    '',
    ...cases.map((c) => `- ${c.kind}, fall ${c.fall}: \`${(c.reasons[0] ?? '').slice(0, 300)}\``),
    '',
  ];
  for (const c of cases) {
    const bound = INTERVAL_MS * c.fall + (c.kind === 'hang' ? 500 : 0) + 100;
    const target = c.kind === 'kill' && c.fall === 1;
    rows.push({
      item: '3. detection',
      measure: `${c.kind === 'kill' ? 'SIGKILL' : 'SIGSTOP'} → service.down, fall ${c.fall}`,
      median: ms(median(c.latencies)),
      max: ms(max(c.latencies)),
      target: target ? `≤ interval + 100 ms = ${INTERVAL_MS + 100} ms` : `(reported; bound ${bound} ms)`,
      verdict: target ? (max(c.latencies) <= INTERVAL_MS + 100 ? 'met (max)' : `missed by ${ms(max(c.latencies) - INTERVAL_MS - 100)} (max)`) : max(c.latencies) <= bound ? 'within bound' : `over bound by ${ms(max(c.latencies) - bound)}`,
    });
  }
  return { title: '3. Detection latency', body: body.join('\n'), rows };
}
