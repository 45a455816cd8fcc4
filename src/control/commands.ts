// `ha-watchdog status | pause | resume | retry SERVICE | switchover | takeback`: ask the
// running daemon over its control socket (stateDir/control.sock from the config).
// Exit codes: 0 done, 1 config invalid, the daemon refused the request, or (switchover,
// takeback) the VIP did not answer where it should within --wait, 3 no daemon answered
// (none running, no permission, no answer in time), 64 usage.
import { userInfo } from 'node:os';
import { formatDuration, parseDuration } from '../config/duration.js';
import { loadConfig, type Config } from '../config/load.js';
import { controlSocket, MAX_PAUSE_MS, MAX_REASON_CHARS, type ControlRequest, type ControlResponse } from './protocol.js';
import type { StatusReport } from './status.js';
import { askDaemon } from './client.js';

type Op = 'status' | 'pause' | 'resume' | 'retry' | 'switchover' | 'takeback';

export async function control(op: Op, configPath: string, o: { json: boolean; for?: string; reason?: string; service?: string; wait?: string }): Promise<number> {
  const req = request(op, o);
  if ('error' in req) return say(process.stderr, `ha-watchdog: ${req.error}\n`, 64);
  const waitMs = parseDuration(o.wait ?? '30s');
  if (typeof waitMs === 'string') return say(process.stderr, `ha-watchdog: --wait: ${waitMs}\n`, 64);
  let stateDir: string;
  let config: Config;
  try {
    config = loadConfig(configPath);
    stateDir = config.stateDir;
  } catch (e) {
    // The socket lives in the config's stateDir: without the config there is no knowing where.
    return fail(o.json, `cannot find the daemon's socket without a valid config:\n${(e as Error).message}`, 1);
  }
  const path = controlSocket(stateDir);
  const a = await askDaemon(path, req);
  if (!a.ok) return fail(o.json, a.message, 3);
  if (!a.response.ok) return fail(o.json, `the daemon refused ${op}: ${a.response.error}`, 1);
  if (op === 'switchover' || op === 'takeback') return follow(op, config, waitMs, o.json);
  return show(op, a.response, o.json);
}

/**
 * After switchover/takeback: wait until the VIP answers from where it should (the peer:
 * not on this host's interfaces; this host: on them), asking it as the agent does.
 */
async function follow(op: 'switchover' | 'takeback', config: Config, waitMs: number, json: boolean): Promise<number> {
  const [{ HttpProbe }, { vipHeld }] = await Promise.all([import('../probes/http.js'), import('../probes/vip-held.js')]);
  const vip = config.keepalived.vip!;
  const probe = new HttpProbe(vip);
  const here = op === 'takeback';
  const started = Date.now();
  let last = '';
  try {
    while (Date.now() - started < waitMs) {
      const held = vipHeld(vip.url).held;
      const r = await probe.check();
      last = `${held === here ? '' : here ? 'not yet on this host; ' : 'still on this host; '}${r.ok ? 'the VIP answers' : `the VIP does not answer (${r.reason})`}`;
      if (held === here && r.ok) {
        const took = Date.now() - started;
        const text = here ? `the VIP answers from this host again (${took} ms)` : `the VIP answers from the peer (${took} ms); this host holds it away until \`ha-watchdog takeback\``;
        return json ? say(process.stdout, `${JSON.stringify({ ok: true, op, tookMs: took })}\n`, 0) : say(process.stdout, `${text}\n`, 0);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    await probe.close();
  }
  return fail(json, `${op}: the VIP did not answer from ${here ? 'this host' : 'the peer'} within ${formatDuration(waitMs)} (${last}); ${here ? 'the switchover is over: the agent takes the VIP back as soon as it can' : 'this host has released it and holds it away; `ha-watchdog takeback` brings it back'}`, 1);
}

function request(op: Op, o: { for?: string; reason?: string; service?: string }): ControlRequest | { error: string } {
  if (op === 'retry') return o.service ? { op, service: o.service, by: whoAmI() } : { error: 'retry needs the service, e.g. ha-watchdog retry tomcat' };
  if (op === 'switchover') {
    if (o.reason !== undefined && o.reason.length > MAX_REASON_CHARS) return { error: `--reason is longer than ${MAX_REASON_CHARS} characters` };
    return { op, ...(o.reason && { reason: o.reason }), by: whoAmI() };
  }
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
    const { formatStatus } = await import('./status-format.js');
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
  const { clock, human } = await import('./status-format.js');
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
