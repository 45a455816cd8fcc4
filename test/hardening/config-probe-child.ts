// Child process for config-regex.test.ts: runs the probes it is given while a 5 ms timer
// measures how long the event loop was ever blocked, and prints one JSON line. A child,
// so that a blocked event loop fails the parent's bounded wait instead of hanging it.
import type { HttpCheck, ProcessMatch } from '../../src/config/load.js';
import { HttpProbe } from '../../src/probes/http.js';
import { PollSnapshot, ProcessProbe, psList } from '../../src/probes/process.js';

type Spec = { kind: 'http'; cfg: HttpCheck } | { kind: 'process'; match: ProcessMatch };

const specs = JSON.parse(process.argv[2]!) as Spec[];
let last = performance.now();
let maxGapMs = 0;
let ticks = 0;
const timer = setInterval(() => {
  const now = performance.now();
  maxGapMs = Math.max(maxGapMs, now - last);
  last = now;
  ticks += 1;
}, 5);

const results = [];
for (const spec of specs) {
  const started = performance.now();
  if (spec.kind === 'http') {
    const probe = new HttpProbe(spec.cfg);
    const r = await probe.check();
    await probe.close();
    results.push({ ok: r.ok, reason: r.reason, ms: performance.now() - started });
  } else {
    const r = await new ProcessProbe(spec.match).check(new PollSnapshot(psList));
    results.push({ ok: r.ok, reason: r.reason, pids: r.pids, ms: performance.now() - started });
  }
  await new Promise((res) => setTimeout(res, 20)); // let the timer see the loop again
}
clearInterval(timer);
process.stdout.write(`${JSON.stringify({ results, maxGapMs, ticks })}\n`);
