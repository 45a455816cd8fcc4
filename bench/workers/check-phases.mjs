// Item 4 breakdown: the path of `ha-watchdog check -c CONFIG` on a healthy host, step
// by step in one process, with a timestamp after each step (performance.now(), ms
// since the process's time origin). Same modules and calls as src/cli.ts + check.ts,
// except that ps-list and undici, which the first poll imports on demand, are imported
// explicitly just before it, so the poll's own time is the scan and the requests.
//   node check-phases.mjs CONFIG [node-http]
// With node-http, undici is never imported: each HTTP probe's check() is replaced by
// the same request made with node:http (fresh connection, same timeout and status
// rule), to size what that change in src/probes/http.ts would save.
import http from 'node:http';
import https from 'node:https';
import { dist, emit } from './common.mjs';

const nodeHttp = process.argv[3] === 'node-http';

const marks = [['node start-up, this script loaded', performance.now()]];
const mark = (name) => marks.push([name, performance.now()]);
const { loadConfig } = await dist('config/load.js');
mark('import config/load.js (yaml, zod, the schema)');
const config = loadConfig(process.argv[2]);
mark('loadConfig (read, parse, validate)');
const { createLogger } = await dist('log.js');
const lines = [];
const log = createLogger({ level: 'info', write: (l) => void lines.push(l) });
mark('import log.js + createLogger (requires pino)');
await dist('agent/check.js');
const { Agent } = await dist('agent/agent.js');
const { acquireLock } = await dist('agent/lock.js');
const { loadState } = await dist('agent/state.js');
const { resumeMemory } = await dist('policy/decide.js');
mark('import agent/check.js (agent, probes, policy, actions)');
const lock = acquireLock(config.stateDir, 'ha-watchdog check');
const resumed = resumeMemory(loadState(config.stateDir).memory, config, Date.now());
mark('lock + load state');
await import('ps-list');
mark('import ps-list');
if (!nodeHttp) {
  await import('undici');
  mark('import undici');
}
const agent = new Agent(config, resumed.memory, { log, dryRun: false, persist: true });
if (nodeHttp) {
  const hs = agent['probes']?.['https'];
  if (!Array.isArray(hs) || hs.some((h) => typeof h?.cfg?.url !== 'string')) throw new Error('node-http: Agent/Probes/HttpProbe internals changed (probes.https[].cfg); update check-phases.mjs');
  for (const h of hs) h.check = () => nodeHttpCheck(h.cfg);
}
const r = await agent.poll();
mark(`first poll: process probes (ps-list scan unless the pids saved by the last run are still alive), 2 HTTP probes${nodeHttp ? ' on node:http' : ''}, concurrently`);
agent.persist();
await agent.close();
if (lock.ok) lock.release();
mark('save state, close, unlock');
const probes = {};
for (const [name, o] of Object.entries(r.observations.services)) for (const p of o.probes) probes[`${name} ${p.probe}`] = p.durationMs;
emit({ marks, probes, scans: r.scans, ok: Object.values(r.observations.services).every((s) => s.ok) && r.observations.keepalived.running, logLines: lines.length });
process.exit(0);

function nodeHttpCheck(cfg) {
  const started = performance.now();
  const done = (ok, reason) => ({ probe: 'http', ok, reason, durationMs: Math.round((performance.now() - started) * 10) / 10 });
  return new Promise((resolve) => {
    const lib = cfg.url.startsWith('https:') ? https : http;
    const req = lib.get(cfg.url, { agent: false, signal: AbortSignal.timeout(cfg.timeout), headers: { 'user-agent': 'ha-watchdog' }, rejectUnauthorized: cfg.tlsVerify }, (res) => {
      res.resume();
      res.on('end', () => {
        const st = res.statusCode ?? 0;
        const ok = cfg.expectStatus ? cfg.expectStatus.includes(st) : st >= 200 && st < 400;
        resolve(done(ok, ok ? undefined : `${cfg.url}: status ${st}`));
      });
      res.on('error', (e) => resolve(done(false, `${cfg.url}: ${e.message}`)));
    });
    req.on('error', (e) => resolve(done(false, `${cfg.url}: ${e.message}`)));
  });
}
