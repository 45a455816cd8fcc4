// keepalived.control stop (the design card's): the VIP is given up by stopping
// keepalived (SIGTERM: priority-0 adverts, the backup takes over at once) and taken
// back by starting it once every critical service is healthy.
import { nextBackoff } from '../limits.js';
import { backHere, type ControlMode } from './mode.js';

export const stopMode: ControlMode = {
  nothingToRelease: (obs) => !obs.running,

  releaseAction(mem, obs, now, reason) {
    mem.release.stopPids = obs.pids;
    mem.last = { kind: 'keepalived.stop', startedAt: now };
    return { kind: 'keepalived.stop', target: 'keepalived', reason };
  },

  keepReleased({ mem, obs, now, events, release }, names) {
    if (!obs.running) return;
    // The processes we stopped may take a moment to exit (a stop command that only
    // signals): give them until nextStopAt. A new keepalived, started behind our back
    // (a package upgrade, an operator), pulls the VIP onto this broken host: stop it at
    // once, backing off only if it keeps coming back.
    const lingering = obs.pids.length > 0 && obs.pids.every((p) => mem.release.stopPids?.includes(p));
    if (now < ((lingering ? mem.backoff.stop.nextAt : mem.backoff.again.nextAt) ?? 0)) return;
    const why = lingering ? `keepalived (pid ${obs.pids.join(', ')}) still runs after the stop` : 'keepalived runs again (started by someone else)';
    events.push({ level: 'warn', event: 'keepalived.running_again', services: names, reason: `${why} while ${names.join(', ')} has failed; stopping it again` });
    if (!lingering) {
      mem.backoff.again.ms = nextBackoff(mem.backoff.again.ms);
      mem.backoff.again.nextAt = now + mem.backoff.again.ms;
    }
    release(`failover: ${mem.release.reason ?? names.join(', ')}`);
  },

  restore({ mem, obs, start }, notUp, healthy) {
    if (obs.running) return backHere(mem);
    // Starting keepalived here would pull the VIP onto a host whose services are not (yet) healthy.
    if (notUp.length) return;
    start(mem.release.active ? `critical services healthy again (${healthy})` : `keepalived not running and critical services healthy (${healthy})`);
  },

  released: (mem, obs) => mem.release.active && !obs.running,
};
