// `npm run demo` (= npm run build && node --import tsx lab/demo.ts [--install]):
// the seed document's three pictures, live, on the two-host lab with ha-watchdog
// on both hosts:
//   1. initial state: A is the keepalived master and holds the VIP; the client sees A;
//   2. A's tomcat dies and cannot be restarted: A's agent stops keepalived, the VIP moves to B;
//   3. A is repaired: A's agent heals tomcat, starts keepalived only once tomcat
//      answers, and the VIP comes back to A.
// It prints what each agent did and why (from its JSON events), who holds the
// VIP, what the client sees, and how long each step took; then tears the lab
// down (also on Ctrl-C and on any failure). About a minute. Steps 2 and 3 are the lab
// scenarios kill-restart-fails (its fault from the scenario table, lab/scenarios.ts) and
// the repair of repair-after-failover, watched live instead of measured.
//
// Needs Linux and root (network and pid namespaces), keepalived, nginx and
// tomcat10 (Debian/Ubuntu packages); `--install` installs what is missing
// through lab/prereqs.sh.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Lab, REPO_ROOT } from './lab.js';
import { LiveTimeline } from './live.js';
import { errorCount } from './measure.js';
import { type FaultContext, SCENARIOS, scenarioLabel, waitSteady } from './scenarios.js';

const args = process.argv.slice(2);
if (args.includes('-h') || args.includes('--help')) {
  console.log(`usage: npm run demo [-- --install]

Brings up the two-host lab (network namespaces: hosts A and B with keepalived,
nginx and tomcat10, client C polling the VIP) with ha-watchdog on both hosts,
and walks through: initial state, A's tomcat dies and cannot restart (VIP to B),
A repaired (VIP back to A). Tears everything down at the end or on Ctrl-C.

  --install   install missing packages (keepalived nginx tomcat10 ...) with apt-get
              via lab/prereqs.sh, without letting them start in the root namespace

Needs Linux and root.`);
  process.exit(0);
}
const unknown = args.filter((a) => a !== '--install');
if (unknown.length) {
  console.error(`demo: unknown argument(s): ${unknown.join(' ')} (see --help)`);
  process.exit(64);
}

const tty = Boolean(process.stdout.isTTY);
const bold = (s: string) => (tty ? `\x1b[1m${s}\x1b[0m` : s);
const dim = (s: string) => (tty ? `\x1b[2m${s}\x1b[0m` : s);
const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

// --- prerequisites ---------------------------------------------------------------
if (process.platform !== 'linux') {
  console.error(`demo: the lab needs Linux (network, pid and mount namespaces); this is ${process.platform}.`);
  process.exit(1);
}
if (process.getuid?.() !== 0) {
  console.error('demo: the lab needs root (it creates network and pid namespaces). Run: sudo npm run demo');
  process.exit(1);
}
const prereqs = join(REPO_ROOT, 'lab', 'prereqs.sh');
const check = spawnSync('bash', [prereqs], { encoding: 'utf8' });
if (check.status !== 0) {
  if (!args.includes('--install')) {
    process.stderr.write(check.stderr || check.stdout);
    console.error('demo: or run `sudo npm run demo -- --install` to install them now.');
    process.exit(1);
  }
  console.log('Installing the missing packages (lab/prereqs.sh --install) ...');
  const inst = spawnSync('bash', [prereqs, '--install'], { stdio: 'inherit' });
  if (inst.status !== 0) {
    console.error(`demo: lab/prereqs.sh --install failed (exit ${inst.status ?? inst.signal})`);
    process.exit(1);
  }
}
if (!existsSync(join(REPO_ROOT, 'dist', 'cli.js'))) {
  console.error("demo: dist/cli.js is missing: run 'npm run build' (npm run demo does it)");
  process.exit(1);
}

// --- the demo ----------------------------------------------------------------------
let lab: Lab | undefined;
let live: LiveTimeline | undefined;
// Lab.up() installs handlers that tear the lab down on Ctrl-C/TERM; this one only says so.
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    if (lab) console.log(`\n${sig}: tearing the lab down ...`);
  });
}

interface Step {
  name: string;
  ms: number;
  errors: number;
  vip: string;
}
const steps: Step[] = [];

function header(n: number, title: string, what: string): void {
  console.log(`\n${bold(`━━ ${n}/3  ${title} `.padEnd(78, '━'))}\n${dim(what)}\n`);
}

async function main(): Promise<void> {
  const t0 = Date.now();
  console.log(bold('ha-watchdog demo: two load-balancer hosts, one VIP, a client'));
  console.log(
    dim(`
        client C ── GET http://VIP/ every 50 ms ──┐
                                                  ▼
    host A (keepalived priority 150)     host B (keepalived priority 100)
      nginx :80 → tomcat :8080             nginx :80 → tomcat :8080
      ha-watchdog (interval 1s)            ha-watchdog (interval 1s)
    The VRRP master holds the VIP. All in network namespaces, removed at the end.
`),
  );
  console.log('Bringing the lab up (namespaces, tomcat, nginx, keepalived, the agents) ...');
  lab = await Lab.up({ agent: 'watchdog' });
  console.log(`Lab ${lab.id} up in ${secs(lab.timings.upMs)}: A=${lab.addr.A} B=${lab.addr.B} client=${lab.addr.C} VIP=${lab.vip}`);
  await lab.client.start();
  live = new LiveTimeline(lab).start();

  // 1. initial state
  header(1, 'Initial state', 'Both agents see tomcat and nginx healthy; A is the master and holds the VIP.');
  live.setOrigin();
  let t = Date.now();
  await waitSteady(lab, 30_000);
  await lab.client.waitForWho('A', 15_000, 10);
  await sleep(1_500);
  live.note(`VIP ${lab.vip} held by ${bold(await lab.vipHolder())}; the client is answered by ${bold(lab.client.last()?.who ?? '?')}`);
  steps.push({ name: '1. initial state (agents up, A serving)', ms: Date.now() - t, errors: errorCount(lab.client.timeline(), t), vip: await lab.vipHolder() });

  // 2. failover: the fault of the lab scenario kill-restart-fails
  const failover = SCENARIOS['kill-restart-fails'];
  header(
    2,
    "A's tomcat dies and cannot restart",
    `The demo plays lab scenario ${scenarioLabel(failover)}: ${failover.fault}.\n` +
      "A's agent sees it down (2 polls), tries one restart, which fails, and stops keepalived: B takes the VIP.",
  );
  const onFault: FaultContext = {
    lab,
    mark: () => {
      const at = Date.now();
      live!.setOrigin(at);
      return at;
    },
    facts: { tomcatBefore: [], tomcatAfter: [] },
    snap: async () => undefined,
    ctlFromNow: () => undefined,
  };
  t = await failover.inject(onFault);
  live.note(`${bold('fault')}    tomcat on A killed (SIGKILL); its restart will fail`);
  await lab.waitFor(async () => (await lab!.vipHolder()) === 'B', 40_000, { what: 'the VIP on B', intervalMs: 200 });
  await lab.client.waitForWho('B', 20_000, 10);
  const failoverMs = Date.now() - t;
  await sleep(1_500);
  steps.push({ name: "2. A's tomcat dead, restart fails → VIP to B", ms: failoverMs, errors: errorCount(lab.client.timeline(), t), vip: await lab.vipHolder() });
  live.note(`B serves; ${secs(failoverMs)} from the kill to B answering steadily${hiddenNote(live)}`);

  // 3. repair: the repair of the lab scenario repair-after-failover
  header(
    3,
    'A is repaired',
    `As in lab scenario ${scenarioLabel(SCENARIOS['repair-after-failover'])}, the demo lets A's tomcat start again. ` +
      "A's agent retries after its backoff\n(10 s after the failure), " +
      'waits until tomcat answers HTTP, then starts keepalived; A (priority 150) takes the VIP back.',
  );
  t = Date.now();
  live.setOrigin(t);
  lab.setTomcatStartFails('A', false);
  live.note(`${bold('repair')}   A's tomcat can start again`);
  const start = await lab.waitForEvent('A', 'keepalived.start', { since: t, timeoutMs: 60_000 });
  await lab.waitFor(async () => (await lab!.vipHolder()) === 'A', 30_000, { what: 'the VIP back on A', intervalMs: 200 });
  await lab.client.waitForWho('A', 20_000, 20);
  const repairMs = Date.now() - t;
  await sleep(1_500);
  const returnErrors = errorCount(lab.client.timeline(), start.t ?? t);
  steps.push({ name: '3. A repaired → VIP back to A', ms: repairMs, errors: errorCount(lab.client.timeline(), t), vip: await lab.vipHolder() });
  live.note(`A serves again; ${secs(repairMs)} from the repair; failed requests during the return: ${returnErrors}${hiddenNote(live)}`);
  await live.stop();
  await lab.client.stop();

  // summary
  console.log(`\n${bold('Summary')}`);
  console.log(`  ${'step'.padEnd(46)} ${'took'.padStart(8)}  ${'failed requests'.padStart(15)}  VIP at the end`);
  for (const s of steps) console.log(`  ${s.name.padEnd(46)} ${secs(s.ms).padStart(8)}  ${String(s.errors).padStart(15)}  ${s.vip}`);
  console.log(
    dim(
      `  (the client sends one request every 50 ms; "took" = fault/repair until the client is answered steadily by the new host;\n` +
        `   step 2's failed requests are A's nginx answering 502 while A's tomcat is dead, until B holds the VIP)`,
    ),
  );
  await lab.down();
  console.log(`\nLab torn down in ${secs(lab.timings.downMs ?? 0)}; the demo took ${secs(Date.now() - t0)}.`);
}

function hiddenNote(l: LiveTimeline): string {
  const n = Object.entries(l.hidden).map(([e, k]) => `${k} ${e}`);
  return n.length ? dim(` (not shown: ${n.join(', ')})`) : '';
}

main().catch(async (e: unknown) => {
  console.error(`\ndemo failed: ${(e as Error).message}`);
  if (lab) {
    for (const h of ['A', 'B'] as const) {
      const tail = lab.hosts[h].readLog('agent.err').trim();
      if (tail) console.error(`agent on ${h} stderr:\n${tail.split('\n').slice(-10).join('\n')}`);
    }
  }
  await live?.stop().catch(() => undefined);
  await lab?.down().catch((err: unknown) => console.error(`teardown: ${(err as Error).message}`));
  process.exit(1);
});
