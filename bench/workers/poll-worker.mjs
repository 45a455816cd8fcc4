// Item 1, run inside the bench namespace: CPU time of Agent.poll() (the built agent,
// in-process) on a healthy stand-in host.
//   node poll-worker.mjs cold   CONFIG            the first poll of a fresh process
//   node poll-worker.mjs steady CONFIG N GAP_MS   N steady polls after a warm-up
//   node poll-worker.mjs scan   CONFIG N GAP_MS   first polls of N fresh Agents (warm process)
//   node poll-worker.mjs pslist CONFIG N GAP_MS   N bare ps-list calls, for reference
//   node poll-worker.mjs proc   CONFIG N GAP_MS   N /proc scans (readdir + stat, cmdline, exe)
//   node poll-worker.mjs pidwatch CONFIG N MS    N pid watch ticks back to back, then MS of
//                                                the watch on its 250 ms timer (item 2c)
// A poll's cost is the CPU used from its start to the next poll's start, so work
// that finishes after poll() resolves (sockets closing, timers) is counted too; the
// gap between polls is a sleep, idle otherwise. Prints one JSON line.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import http from 'node:http';
import { cpuDelta, cpuNow, dist, emit, quietLogger, sleep } from './common.mjs';

const [mode, configPath, nArg, gapArg] = process.argv.slice(2);
const n = Number(nArg ?? 1);
const gap = Number(gapArg ?? 20);
const t0 = cpuNow();
const { loadConfig } = await dist('config/load.js');
const { Agent } = await dist('agent/agent.js');
const { freshMemory } = await dist('policy/decide.js');
const counter = { lines: 0 };
const log = await quietLogger(counter);
const config = loadConfig(configPath);
const opts = { log, dryRun: false, persist: false };

async function measure(reps, fn) {
  const out = [];
  let prev = cpuNow();
  for (let i = 0; i < reps; i++) {
    const extra = await fn(i);
    await sleep(gap);
    const now = cpuNow();
    out.push({ ...cpuDelta(prev, now), ...extra });
    prev = now;
  }
  return out;
}

if (mode === 'cold') {
  const before = cpuNow();
  const agent = new Agent(config, freshMemory(), opts);
  const r = await agent.poll();
  // Long enough for V8's background work started by the poll (e.g. the tier-up of
  // undici's WebAssembly HTTP parser) to finish: process.cpuUsage() counts every thread.
  await sleep(Math.max(gap, 500));
  const after = cpuNow();
  await agent.close();
  // selfAtExit: run under `bash -c '...; times'`, bash's children time minus this is
  // the exact CPU of this process's children (the ps runs), not rounded to ticks.
  emit({ poll: { ...cpuDelta(before, after), scans: r.scans, wallMs: r.durationMs }, startup: cpuDelta(t0, before), ok: allOk(r), selfAtExit: cpuNow().self });
} else if (mode === 'steady') {
  // persist: true, as in the daemon; the state file changes only in the first polls.
  const agent = new Agent(config, freshMemory(), { ...opts, persist: true });
  for (let i = 0; i < 5; i++) {
    await agent.poll();
    await sleep(gap);
  }
  let scans = 0;
  let bad = 0;
  const samples = await measure(n, async () => {
    const r = await agent.poll();
    scans += r.scans;
    if (!allOk(r)) bad += 1;
    return { wallMs: r.durationMs };
  });
  await agent.close();
  emit({ samples, scans, notOk: bad, logLines: counter.lines });
} else if (mode === 'scan') {
  // One unmeasured Agent first: module imports are the cold poll's business.
  const warm = new Agent(config, freshMemory(), opts);
  await warm.poll();
  await warm.close();
  let bad = 0;
  const samples = await measure(n, async () => {
    const agent = new Agent(config, freshMemory(), opts);
    const r = await agent.poll();
    if (!allOk(r)) bad += 1;
    await agent.close();
    return { wallMs: r.durationMs, scans: r.scans };
  });
  emit({ samples, notOk: bad });
} else if (mode === 'pslist') {
  const { psList } = await dist('probes/process.js');
  await psList(); // the import is not what this measures
  await sleep(gap);
  const samples = await measure(n, async () => {
    const s = performance.now();
    const list = await psList();
    return { wallMs: performance.now() - s, processes: list.length };
  });
  emit({ samples });
} else if (mode === 'proc') {
  const samples = await measure(n, async () => {
    const s = performance.now();
    const list = procScan();
    return { wallMs: performance.now() - s, processes: list.length };
  });
  emit({ samples });
} else if (mode === 'parts') {
  // Where a steady poll's CPU goes: each part alone, in its steady state.
  const { ProcessProbe, PollSnapshot, psList } = await dist('probes/process.js');
  const { HttpProbe } = await dist('probes/http.js');
  const { decide } = await dist('policy/decide.js');
  const procs = [config.services.tomcat.process, config.services.nginx.process, config.keepalived.process].map((m) => new ProcessProbe(m));
  const https = [config.services.tomcat.http, config.services.nginx.http].map((h) => new HttpProbe(h));
  const snap = () => new PollSnapshot(psList);
  const undici = await import('undici');
  const keptAlive = new undici.Agent({});
  for (const p of procs) await p.check(snap()); // first check: the scan
  for (const h of https) await h.check();
  const agent = new Agent(config, freshMemory(), opts);
  for (let i = 0; i < 5; i++) await agent.poll();
  const obs = agent.last.observations;
  let memory = agent.memory;
  await agent.close();
  const parts = {
    'measurement floor (empty part: timer wake-up, reading /proc/self/stat)': async () => {},
    'process probes (3, known pids confirmed via /proc)': async () => void (await Promise.all(procs.map((p) => p.check(snap())))),
    'HTTP probes (2, concurrent, as src/probes/http.ts makes them)': async () => void (await Promise.all(https.map((h) => h.check()))),
    'one HTTP probe (src/probes/http.ts)': async () => void (await https[0].check()),
    'for comparison: one plain node:http GET on a fresh connection': () => plainGet(config.services.tomcat.http.url),
    'for comparison: one undici GET on a kept-alive connection': async () => {
      const r = await undici.request(config.services.tomcat.http.url, { dispatcher: keptAlive, signal: AbortSignal.timeout(2000) });
      for await (const _ of r.body);
    },
    'decide() + JSON.stringify(memory) (policy, state compare)': async () => {
      const d = decide(obs, memory, config, Date.now());
      memory = d.memory;
      JSON.stringify(memory);
    },
  };
  const out = {};
  for (const [name, fn] of Object.entries(parts)) {
    const samples = await measure(n, fn);
    out[name] = samples.map((s) => s.total);
  }
  for (const h of https) await h.close();
  await keptAlive.close();
  emit({ parts: out });
} else if (mode === 'pidwatch') {
  // Item 2c: the daemon's 250 ms pid watch (the real PidWatch over the real known pids
  // of a steady Agent). First n tick() calls back to back (the work of one tick, caches
  // hot); then in place, as the daemon runs it: rounds of three windows, idle (nothing
  // scheduled), an empty setInterval of the watch's period (the timer wake-up alone)
  // and the watch ticking on the same timer, `gap` ms in all per kind.
  const { PidWatch, PID_WATCH_MS } = await dist('agent/pid-watch.js');
  const agent = new Agent(config, freshMemory(), { ...opts, persist: true });
  for (let i = 0; i < 5; i++) {
    await agent.poll();
    await sleep(20);
  }
  // The HTTP connections closed (their keep-alive timers would land in the windows);
  // the known pids stay with the process probes.
  await agent.close();
  const known = agent.knownPids();
  const owners = Object.fromEntries(Object.entries(known).map(([k, v]) => [k, v?.pids?.length ?? 0]));
  let reports = 0;
  const watch = new PidWatch(() => agent.knownPids(), (gone) => void (reports += gone.length));
  let watchTicks = 0;
  const tick = watch.tick.bind(watch);
  watch.tick = () => {
    watchTicks += 1;
    return tick();
  };
  const ROUNDS = Math.max(3, Math.min(10, Math.round(gap / 2000)));
  const windowMs = gap / ROUNDS;
  const cpuOver = async (startFn, stopFn) => {
    await sleep(100);
    const c0 = process.cpuUsage();
    const w0 = performance.now();
    startFn?.();
    await sleep(windowMs);
    stopFn?.();
    const c = process.cpuUsage(c0);
    return { cpuUs: c.user + c.system, ms: performance.now() - w0 };
  };
  // 1. Back to back, in batches of 1000 (the first batch is the warm-up, not counted):
  // the work of a tick alone, caches hot; and V8 compiles tick() hot, as in a daemon
  // that has run for a while.
  const BATCH = 1000;
  const batches = [];
  for (let b = 0; b <= Math.max(1, Math.round(n / BATCH)); b++) {
    const c0 = process.cpuUsage();
    const w0 = performance.now();
    for (let i = 0; i < BATCH; i++) watch.tick();
    const c = process.cpuUsage(c0);
    if (b > 0) batches.push({ cpuUs: (c.user + c.system) / BATCH, wallUs: ((performance.now() - w0) * 1000) / BATCH });
    await sleep(5);
  }
  const warmAfterTicks = watchTicks;
  // 2. In place, as the daemon runs it, once the garbage of step 1 is collected (with
  // --expose-gc; else V8 may collect it in the middle of a window).
  await sleep(500);
  globalThis.gc?.();
  await sleep(2000);
  const rounds = [];
  for (let r = 0; r < ROUNDS; r++) {
    const idle = await cpuOver();
    let emptyTicks = 0;
    let timer;
    const empty = await cpuOver(
      () => (timer = setInterval(() => void (emptyTicks += 1), PID_WATCH_MS)).unref(),
      () => clearInterval(timer),
    );
    // What watch.start() sets up (setInterval(() => this.tick(), 250)), without stop()
    // between the windows: that would close the watch's open files, and reopening them
    // is not what a running daemon does each tick.
    const before = watchTicks;
    let watchTimer;
    const paced = await cpuOver(
      () => (watchTimer = setInterval(() => watch.tick(), PID_WATCH_MS)).unref(),
      () => clearInterval(watchTimer),
    );
    rounds.push({ idle, empty: { ...empty, ticks: emptyTicks }, paced: { ...paced, ticks: watchTicks - before } });
  }
  watch.stop();
  emit({ periodMs: PID_WATCH_MS, owners, pids: Object.values(owners).reduce((a, b) => a + b, 0), watched: Object.values(known).reduce((a, v) => a + (v?.pids ?? []).filter((p) => !p.child).length, 0), batches, reports, rounds, warmAfterTicks });
} else {
  console.error(`unknown mode ${mode}`);
  process.exit(64);
}
process.exit(0);

function plainGet(url) {
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false, timeout: 2000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('error', () => resolve(0));
  });
}

function allOk(r) {
  return Object.values(r.observations.services).every((s) => s.ok) && r.observations.keepalived.running;
}

/** What a scan without `ps` costs: every pid's stat, cmdline and exe link. */
function procScan() {
  const out = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      const cmd = readFileSync(`/proc/${e}/cmdline`, 'utf8');
      let exe = null;
      try {
        exe = readlinkSync(`/proc/${e}/exe`);
      } catch {}
      out.push({ pid: Number(e), stat: stat.length, cmd: cmd.length, exe });
    } catch {}
  }
  return out;
}
