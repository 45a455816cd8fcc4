// `ha-watchdog status | pause | resume | retry SERVICE`: ask the running daemon over its control socket
// (stateDir/control.sock from the config). Exit codes: 0 done, 1 config invalid or the
// daemon refused the request, 3 no daemon answered (none running, no permission,
// no answer in time), 64 usage.
import { userInfo } from 'node:os';
import { formatDuration, parseDuration } from './config/duration.js';
import { loadConfig } from './config/load.js';
import { controlSocket, MAX_PAUSE_MS, MAX_REASON_CHARS, type ControlRequest, type ControlResponse } from './agent/control-protocol.js';
import type { StatusReport } from './agent/status.js';
import { askDaemon } from './control-client.js';

type Op = 'status' | 'pause' | 'resume' | 'retry';

export async function control(op: Op, configPath: string, o: { json: boolean; for?: string; reason?: string; service?: string }): Promise<number> {
  const req = request(op, o);
  if ('error' in req) return say(process.stderr, `ha-watchdog: ${req.error}\n`, 64);
  let stateDir: string;
  try {
    stateDir = loadConfig(configPath).stateDir;
  } catch (e) {
    // The socket lives in the config's stateDir: without the config there is no knowing where.
    return fail(o.json, `cannot find the daemon's socket without a valid config:\n${(e as Error).message}`, 1);
  }
  const path = controlSocket(stateDir);
  const a = await askDaemon(path, req);
  if (!a.ok) return fail(o.json, a.message, 3);
  if (!a.response.ok) return fail(o.json, `the daemon refused ${op}: ${a.response.error}`, 1);
  return show(op, a.response, o.json);
}

function request(op: Op, o: { for?: string; reason?: string; service?: string }): ControlRequest | { error: string } {
  if (op === 'retry') return o.service ? { op, service: o.service, by: whoAmI() } : { error: 'retry needs the service, e.g. ha-watchdog retry tomcat' };
  if (op !== 'pause') return op === 'status' ? { op } : { op, by: whoAmI() };
  let forMs: number | undefined;
  if (o.for !== undefined) {
    const ms = parseDuration(o.for);
    if (typeof ms === 'string') return { error: `--for: ${ms}` };
    if (ms <= 0 || ms > MAX_PAUSE_MS) return { error: `--for must be more than 0 and at most ${formatDuration(MAX_PAUSE_MS)} (30 days), got "${o.for}"` };
    forMs = ms;
  }
  if (o.reason !== undefined && o.reason.length > MAX_REASON_CHARS) return { error: `--reason is longer than ${MAX_REASON_CHARS} characters` };
  return { op, ...(forMs !== undefined && { forMs }), ...(o.reason && { reason: o.reason }), by: whoAmI() };
}

/** Who is asking, for the log: only root can connect, so the sudo user says more than "root". */
function whoAmI(): string {
  const sudo = process.env.SUDO_USER;
  if (sudo && process.getuid?.() === 0) return `${sudo} (sudo)`;
  try {
    return userInfo().username;
  } catch {
    return `uid ${process.getuid?.()}`;
  }
}

async function show(op: Op, res: ControlResponse & { ok: true }, json: boolean): Promise<number> {
  if (op === 'status') {
    const status = res.status as StatusReport;
    if (json) return say(process.stdout, `${JSON.stringify(status)}\n`, 0);
    const { formatStatus } = await import('./agent/status-format.js');
    return say(process.stdout, formatStatus(status), 0);
  }
  if (json) return say(process.stdout, `${JSON.stringify(res)}\n`, 0);
  if (res.persisted === false) process.stderr.write('ha-watchdog: warning: the daemon could not save this to its state file; it will not survive an agent restart (see state.write_failed in its log)\n');
  if (op === 'retry') return say(process.stdout, `${String(res.what)}\n`, 0);
  if (op === 'resume') {
    const said = [res.wasPaused && 'resumed: the daemon acts again from its next poll', res.wasFlapping && 'the flap limit is lifted: this host may release the VIP again'].filter(Boolean);
    return say(process.stdout, `${said.length ? said.join('\n') : 'not paused: nothing to resume'}\n`, 0);
  }
  const m = res.maintenance as StatusReport['maintenance'];
  const { clock, human } = await import('./agent/status-format.js');
  const until = m.until ? `until ${clock(m.until, Date.now())} (for ${human(Date.parse(m.until) - Date.parse(m.since!))})` : 'until `ha-watchdog resume`';
  return say(process.stdout, `paused ${until}${m.reason ? `: ${m.reason}` : ''}\nthe daemon keeps probing and reporting, and takes no action (no restart, no failover, no keepalived start)\n`, 0);
}

function fail(json: boolean, message: string, code: number): number {
  if (json) return say(process.stdout, `${JSON.stringify({ error: message, exitCode: code })}\n`, code);
  return say(process.stderr, `ha-watchdog: ${message}\n`, code);
}

function say(stream: NodeJS.WriteStream, text: string, code: number): number {
  stream.write(text);
  return code;
}
