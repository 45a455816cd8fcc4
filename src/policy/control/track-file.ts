// keepalived.control track-file: keepalived keeps running; the agent writes 1 into the
// instance's track_file (weight 0: FAULT, the VIP moves) and 0 to take it back.
// keepalived itself is watched and started even while the host is unhealthy: the 1,
// written first, keeps it out of the VIP.
import { nextBackoff } from '../limits.js';
import { backHere, type ControlMode } from './mode.js';

export const trackFileMode: ControlMode = {
  nothingToRelease: () => false,

  releaseAction(mem, _obs, now, reason) {
    mem.last = { kind: 'vip.release', startedAt: now };
    return { kind: 'vip.release', target: 'keepalived', reason };
  },

  keepReleased({ mem, obs, now, events, release }, names) {
    if (obs.track === 1 || now < (mem.backoff.stop.nextAt ?? 0)) return;
    events.push({ level: 'warn', event: 'keepalived.running_again', services: names, reason: `the track file reads ${obs.track ?? 'nothing'} while ${names.join(', ')} is not healthy; writing 1 again` });
    release(`the VIP must stay away: ${mem.release.reason ?? names.join(', ')}`);
  },

  restore({ mem, obs, now, actions, release, start }, notUp, healthy) {
    if (!obs.running) {
      if (notUp.length && obs.track !== 1) {
        mem.release.active = true;
        mem.release.reason = `${notUp.join(', ')} not healthy while keepalived is not running`;
        return release(`keeping this host out of the VIP before keepalived starts: ${mem.release.reason}`);
      }
      return start(`keepalived not running${notUp.length ? ' (the track file keeps it out of the VIP)' : ` and critical services healthy (${healthy})`}`);
    }
    if (notUp.length) {
      if (obs.track === 1) mem.release.active = true; // released before this agent knew (restart, state lost)
      return;
    }
    if (obs.track === 0) return backHere(mem);
    if (now < (mem.backoff.start.nextAt ?? 0)) return;
    mem.backoff.start.ms = nextBackoff(mem.backoff.start.ms);
    mem.backoff.start.nextAt = now + mem.backoff.start.ms;
    mem.phase = 'starting';
    mem.last = { kind: 'vip.reclaim', startedAt: now };
    actions.push({ kind: 'vip.reclaim', target: 'keepalived', reason: `critical services healthy (${healthy})${obs.track === null ? '; the track file is missing' : ''}` });
  },

  released: (mem, obs) => mem.release.active && obs.track === 1,
};
