// The control socket wired to the running agent: `status` reads its state, `pause` and
// `resume` switch maintenance, `retry` asks for a restart attempt now. Only the agent in charge (holding the lock) serves it.
import type { Config } from '../config/load.js';
import type { Logger } from '../log.js';
import type { Agent } from '../agent/agent.js';
import { controlSocket, type ControlRequest, type ControlResponse } from './protocol.js';
import { startControlServer, type ControlServer } from './server.js';
import { buildStatus, type DeathNotice } from './status.js';

export interface ControlContext {
  agent: Agent;
  /** The running config (it changes on SIGHUP; stateDir does not). */
  config: () => Config;
  log: Logger;
  version: string;
  startedAt: number;
  dryRun: boolean;
  /** Poll now (after `retry`), not at the next tick. */
  pollNow?: () => void;
  /** How a service's (or keepalived's) process death is noticed now. */
  deathNotice?: (owner: string) => DeathNotice | null;
}

/** The server, or null when it cannot listen: logged as control.failed, and the agent goes on without it. */
export async function serveControl(ctx: ControlContext): Promise<ControlServer | null> {
  const path = controlSocket(ctx.config().stateDir);
  const r = await startControlServer(path, (req) => handle(req, ctx));
  if (!r.ok) {
    ctx.log.error({ event: 'control.failed', socket: path, reason: r.reason }, `control socket unavailable, status/pause/resume will not work: ${r.reason}`);
    return null;
  }
  return r.server;
}

export async function handle(req: ControlRequest, ctx: ControlContext): Promise<ControlResponse> {
  ctx.log.debug({ event: 'control.request', op: req.op, by: 'by' in req ? req.by : undefined }, `control: ${req.op}`);
  const status = () =>
    buildStatus({
      config: ctx.config(),
      memory: ctx.agent.memory,
      // The newest answer of each probe, not only those the last poll decided on.
      last: ctx.agent.last && ctx.agent.seen ? { ...ctx.agent.last, observations: { ...ctx.agent.seen, outcomes: [] } } : ctx.agent.last,
      lastPollAt: ctx.agent.lastPollAt,
      actions: ctx.agent.recent.list(),
      agent: { pid: process.pid, version: ctx.version, startedAt: ctx.startedAt, dryRun: ctx.dryRun },
      now: Date.now(),
      deathNotice: ctx.deathNotice,
    });
  switch (req.op) {
    case 'status':
      return { ok: true, status: status() };
    case 'pause': {
      const { persisted } = ctx.agent.pause({ forMs: req.forMs, reason: req.reason, by: req.by });
      return { ok: true, persisted, maintenance: status().maintenance };
    }
    case 'resume': {
      const { wasPaused, wasFlapping, persisted } = ctx.agent.resume({ by: req.by });
      return { ok: true, wasPaused, wasFlapping, persisted };
    }
    case 'switchover': {
      const r = await ctx.agent.switchover({ reason: req.reason, by: req.by });
      if (!r.ok) return r;
      ctx.pollNow?.();
      return { ok: true, persisted: r.persisted, vip: ctx.config().keepalived.vip?.url ?? null };
    }
    case 'takeback': {
      const r = ctx.agent.takeback({ by: req.by });
      if (!r.ok) return r;
      ctx.pollNow?.();
      return { ok: true, persisted: r.persisted, vip: ctx.config().keepalived.vip?.url ?? null };
    }
    case 'retry': {
      const r = ctx.agent.retry(req.service, { by: req.by });
      if (!r.ok) return r;
      ctx.pollNow?.();
      return { ok: true, what: r.what, persisted: r.persisted };
    }
  }
}
