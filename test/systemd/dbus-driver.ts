// Runs INSIDE the systemd test container, bundled with src/systemd by esbuild
// (dbus-harness.ts): a UnitWatch driven over stdin/stdout, one JSON object a line.
//   in:  {id, cmd: watch|read|cached|start|stop|restart|kill|forge|resources|fork|cpu|close, unit?, timeoutMs?, op?}
//   out: {id, ...reply} | {event: death|change|lost, ...}
// `kill` SIGKILLs the watched unit's main pid from here, so that the death notice's
// latency is measured on one clock (performance.now()) with sub-millisecond resolution.
// `fork` runs `systemctl <op> <unit>` as the agent's fallback does, and `cpu` reads the
// CPU of this process (with its waited-for children), PID 1 and dbus-daemon: the bench
// bench/dbus-jobs.ts compares the two ways of restarting a unit.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { Message, MessageType, sessionBus, Variant } from '@jellybrick/dbus-next';
import { SYSTEM_BUS_SOCKET } from '../../src/systemd/bus.js';
import { PROPS_IFACE, SERVICE_IFACE, UNIT_IFACE } from '../../src/systemd/manager.js';
import { UnitWatch } from '../../src/systemd/units.js';

interface Cmd {
  id: number;
  cmd: string;
  unit?: string;
  timeoutMs?: number;
  op?: 'start' | 'stop' | 'restart';
}

const out = (o: unknown) => process.stdout.write(`${JSON.stringify(o)}\n`);
/** dbus-daemon's pid, read once (for `cpu`). */
let dbusPid: number | undefined;
/** pid -> when it was killed (performance.now(), Date.now()). */
const kills = new Map<number, { perf: number; wall: number }>();

const opened = await UnitWatch.open();
if (!opened.ok) {
  out({ event: 'open-failed', error: opened.error });
  process.exit(2);
}
const w = opened.value;
w.on('death', (d) => {
  const perf = performance.now();
  const k = kills.get(d.pid);
  kills.delete(d.pid);
  out({ event: 'death', ...d, latencyMs: k ? perf - k.perf : undefined, wallLatencyMs: k ? d.at - k.wall : undefined });
});
w.on('change', (c) => out({ event: 'change', unit: c.unit, at: c.at, state: c.state, systemd: c.systemd }));
w.on('lost', (e) => out({ event: 'lost', error: e }));
out({ event: 'ready' });

const rl = createInterface({ input: process.stdin });
rl.on('line', (line) => {
  const c = JSON.parse(line) as Cmd;
  void handle(c).then(
    (r) => out({ id: c.id, ...r }),
    (err: unknown) => out({ id: c.id, thrown: String((err as Error)?.stack ?? err) }),
  );
});

async function handle(c: Cmd): Promise<Record<string, unknown>> {
  const unit = c.unit ?? '';
  switch (c.cmd) {
    case 'watch':
      return { result: await w.watch(unit) };
    case 'read':
      return { result: await w.read(unit) };
    case 'start':
    case 'stop':
    case 'restart':
      return { result: await w[c.cmd](unit, { timeoutMs: c.timeoutMs }) };
    case 'kill': {
      const pid = w.mainPid(unit);
      if (!pid) return { error: `no main pid for ${unit}` };
      kills.set(pid, { perf: performance.now(), wall: Date.now() });
      process.kill(pid, 'SIGKILL');
      return { pid };
    }
    case 'cached':
      return { state: w.state(unit) ?? null, systemd: w.restartingBySystemd(unit) ?? null };
    case 'forge':
      return forge(unit);
    case 'fork': {
      // Own process group, no stdin, output discarded: as src/actions/command.ts runs it.
      const t0 = performance.now();
      const code = await new Promise<number | null>((res, rej) => {
        const child = spawn('/usr/bin/systemctl', [c.op ?? 'restart', unit], { detached: true, stdio: ['ignore', 'ignore', 'ignore'] });
        child.on('error', rej);
        child.on('exit', (n) => res(n));
      });
      return { code, ms: performance.now() - t0 };
    }
    case 'cpu': {
      // utime+stime in clock ticks; cutime+cstime: the children this process has waited for.
      const ticks = (pid: number | 'self') => {
        const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
        return { own: Number(f[11]) + Number(f[12]), children: Number(f[13]) + Number(f[14]) };
      };
      if (dbusPid === undefined) {
        const dbus = await w.read('dbus.service');
        dbusPid = dbus.ok ? dbus.value.mainPid : 0;
      }
      return { self: ticks('self'), pid1: ticks(1).own, dbus: dbusPid ? ticks(dbusPid).own : null };
    }
    case 'resources':
      // What keeps this process alive right now: at idle only the bus socket and stdin.
      return { resources: process.getActiveResourcesInfo() };
    case 'close':
      await w.close();
      rl.close();
      process.stdin.destroy();
      // Nothing is left: the process ends by itself (the harness checks it does).
      return { closed: true, resources: process.getActiveResourcesInfo() };
    default:
      return { error: `unknown command ${c.cmd}` };
  }
}

/**
 * From a second connection, forged PropertiesChanged for the unit saying its main
 * process died: one addressed to the watch's connection (bypassing its match rules),
 * one broadcast (not from systemd: the rules' sender= keeps it out). Neither may count.
 */
async function forge(unit: string): Promise<Record<string, unknown>> {
  const r = await w.read(unit);
  if (!r.ok) return { error: r.error };
  const path = (r.value as { path?: string }).path ?? '';
  const bus = sessionBus({ busAddress: `unix:path=${SYSTEM_BUS_SOCKET}`, authMethods: ['EXTERNAL'] });
  await new Promise<void>((res) => bus.once('connect', () => res()));
  const signal = (iface: string, props: Record<string, Variant>, destination?: string) =>
    new Message({ type: MessageType.SIGNAL, path, interface: PROPS_IFACE, member: 'PropertiesChanged', signature: 'sa{sv}as', body: [iface, props, []], destination });
  const dead = { MainPID: new Variant('u', 0), ExecMainCode: new Variant('i', 2), ExecMainStatus: new Variant('i', 9) };
  const failed = { ActiveState: new Variant('s', 'failed'), SubState: new Variant('s', 'failed') };
  for (const destination of [w.busName, undefined]) {
    bus.send(signal(SERVICE_IFACE, dead, destination));
    bus.send(signal(UNIT_IFACE, failed, destination));
  }
  // A round trip after the sends: dbus-daemon has routed them by the time it answers.
  await bus.call(new Message({ destination: 'org.freedesktop.DBus', path: '/org/freedesktop/DBus', interface: 'org.freedesktop.DBus', member: 'GetId' }));
  bus.disconnect();
  return { sent: 4, from: bus.name, to: w.busName, path };
}
