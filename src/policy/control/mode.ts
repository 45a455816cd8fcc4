// What differs between the two ways of giving the VIP up (keepalived.control): each
// mode answers the same few questions; the decision of when to give the VIP up, keep
// it away or take it back (../keepalived.ts) is the same for both.
import type { Action, KeepalivedMemory, KeepalivedObservation, PolicyEvent } from '../types.js';

/** What a mode may do to the decision in progress. */
export interface ModeContext {
  mem: KeepalivedMemory;
  obs: KeepalivedObservation;
  now: number;
  actions: Action[];
  events: PolicyEvent[];
  /** Give the VIP up now (paced by the stop backoff). */
  release(reason: string): void;
  /** Start keepalived (paced by the start backoff). */
  start(reason: string): void;
}

export interface ControlMode {
  /** Nothing to give up: the VIP cannot be here (stop: keepalived is not running). */
  nothingToRelease(obs: KeepalivedObservation): boolean;
  /** The action that gives the VIP up; records what it needs to tell it worked. */
  releaseAction(mem: KeepalivedMemory, obs: KeepalivedObservation, now: number, reason: string): Action;
  /** After giving the VIP up while `names` are unhealthy: give it up again if it came back. */
  keepReleased(ctx: ModeContext, names: string[]): void;
  /** No release wanted: bring the VIP back when `notUp` is empty (or keep keepalived out of it). */
  restore(ctx: ModeContext, notUp: string[], healthy: string): void;
  /** This host has let go of the VIP (as far as the agent can tell). */
  released(mem: KeepalivedMemory, obs: KeepalivedObservation): boolean;
}

/** The VIP is back (or never left): the release episode is over. */
export function backHere(mem: KeepalivedMemory): void {
  mem.release.active = false;
  mem.release.handover = false;
  mem.release.reason = undefined;
}
