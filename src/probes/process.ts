// Process probe. Finding processes needs a full process-table scan (ps-list: two `ps`
// runs, ~60 ms CPU); confirming pids we already know costs one /proc read each. So:
// scan once, then confirm known pids every poll, and scan again only when one is gone.
import { closeSync } from 'node:fs';
import { openStat, statAlive } from '../os/stat-file.js';
import { readFileSafe } from '../os/safe-write.js';
import type { ProcessMatch } from '../config/load.js';
import type { ProbeResult } from '../policy/types.js';
import { compileMatch, describeMatch, type Candidate } from './match.js';
import { exeName, inUnit, isDead, pidNamespace, readCmdline, readStat } from '../os/proc.js';

/**
 * The agent's own pid namespace: processes outside it (in a container on this host) are
 * not this host's services. Read once, on first use (not when the module loads: the
 * single executable's startup snapshot loads it at build time, in another process).
 */
let ownPidNs: string | null | undefined;
const ownPidNamespace = () => (ownPidNs === undefined ? (ownPidNs = pidNamespace('self')) : ownPidNs);

export interface ListedProcess {
  pid: number;
  ppid: number;
  /** ps-list's name: basename of the exe, or comm when the exe is unreadable. */
  name: string;
  cmd: string;
}

/** One process-table scan per poll, shared by every process probe of that poll. */
export class PollSnapshot {
  private listing?: Promise<ListedProcess[]>;
  scans = 0;
  constructor(private readonly list: () => Promise<ListedProcess[]>) {}
  processes(): Promise<ListedProcess[]> {
    if (!this.listing) {
      this.scans += 1;
      this.listing = this.list();
    }
    return this.listing;
  }
}

export async function psList(): Promise<ListedProcess[]> {
  const { default: list } = await import('ps-list');
  return (await list({ all: true })).map((p) => ({ pid: p.pid, ppid: p.ppid, name: p.name, cmd: p.cmd ?? '' }));
}

export interface Known {
  pid: number;
  startTime: number;
  /**
   * Its parent is another of the same match (an nginx worker, keepalived's VRRP and
   * checker children): the parent respawns it, so the pid watch leaves it to the polls.
   */
  child?: true;
}

/** What a probe found, tied to the matcher that found it (a changed config discards it). */
export interface KnownSet {
  match: string;
  pids: Known[];
}

/**
 * The known pids' /proc/<pid>/stat, each opened once and re-read in place every poll
 * (one pread into a reused buffer: no open, fstat and close per pid and poll, no
 * string). An open stat file stays bound to its process: once that is gone the read
 * fails (ESRCH), even if the pid was reused meanwhile, so the start time is checked
 * only at the open. Alive = readable and not a zombie (Z) or dead (X, x), as isAlive().
 */
class StatFiles {
  /** pid:startTime -> the open file, or null once it read as dead. */
  private readonly fds = new Map<string, number | null>();

  alive(k: Known): boolean {
    const key = `${k.pid}:${k.startTime}`;
    let fd = this.fds.get(key);
    if (fd === undefined) this.fds.set(key, (fd = openStat(k.pid, k.startTime)));
    if (fd === null) return false;
    if (statAlive(fd)) return true;
    closeSync(fd);
    this.fds.set(key, null);
    return false;
  }

  /** Closes the files of pids no longer known. */
  keep(known: Known[]): void {
    const keys = new Set(known.map((k) => `${k.pid}:${k.startTime}`));
    for (const [key, fd] of this.fds) {
      if (keys.has(key)) continue;
      if (fd !== null) closeSync(fd);
      this.fds.delete(key);
    }
  }

  close(): void {
    this.keep([]);
  }
}


export class ProcessProbe {
  private known: Known[] = [];
  private readonly stats = new StatFiles();
  private readonly matches: (c: Candidate) => boolean;

  constructor(
    private readonly match: ProcessMatch,
    private readonly self = process.pid,
  ) {
    this.matches = compileMatch(match);
    this.matchKey = JSON.stringify([match.name, match.args ?? null, match.namespace ?? 'own', match.unit ?? null]);
  }

  /** What the known pids are tied to (computed once: the pid watch asks for them four times a second). */
  private readonly matchKey: string;

  /** Outside the agent's pid namespace (namespace: own), or outside the configured unit: not the service, whatever it looks like. */
  private outOfScope(pid: number): 'namespace' | 'unit' | null {
    if ((this.match.namespace ?? 'own') === 'own') {
      const own = ownPidNamespace();
      if (own !== null && pidNamespace(pid) !== own) return 'namespace';
    }
    if (this.match.unit !== undefined && !inUnit(pid, this.match.unit)) return 'unit';
    return null;
  }

  /** Closes the stat files it keeps open. */
  close(): void {
    this.stats.close();
  }

  exportKnown(): KnownSet {
    return { match: this.matchKey, pids: this.known };
  }

  /** Seeds the pids to confirm first (e.g. saved by an earlier run); ignored if the matcher changed. */
  importKnown(set: KnownSet | undefined): void {
    if (set?.match === this.matchKey && Array.isArray(set.pids)) {
      this.known = set.pids.filter((k) => Number.isInteger(k?.pid) && Number.isInteger(k?.startTime) && !this.outOfScope(k.pid));
      this.stats.keep(this.known);
    }
  }

  async check(snapshot: PollSnapshot): Promise<ProbeResult> {
    const started = performance.now();
    const done = (ok: boolean, reason?: string, pids?: number[]): ProbeResult => ({
      probe: 'process',
      ok,
      ...(!ok && { gone: true }),
      reason,
      durationMs: Math.round((performance.now() - started) * 10) / 10,
      pids,
    });
    if (this.match.pidfile) {
      const r = this.fromPidfile(this.match.pidfile);
      return typeof r === 'string' ? done(false, r) : done(true, undefined, [r]);
    }
    if (this.known.length && this.known.every((k) => this.stats.alive(k))) {
      return done(true, undefined, this.known.map((k) => k.pid));
    }
    const found = await this.search(snapshot);
    this.known = found.known;
    this.stats.keep(this.known);
    if (found.known.length) return done(true, undefined, found.known.map((k) => k.pid));
    return done(false, found.reason);
  }


  private candidate(pid: number, cmd?: string): Candidate {
    return { pid, exe: exeName(pid), comm: readStat(pid)?.comm ?? null, cmd: cmd ?? readCmdline(pid) ?? '' };
  }

  private fromPidfile(file: string): number | string {
    // Never through a symlink, never blocking on a FIFO, a few bytes at most; any owner
    // (a service writes its own pidfile).
    const r = readFileSafe(file, { maxBytes: 4096, owner: null });
    if (!r.ok) return `pidfile ${file} unreadable (${r.reason}), expected the pid of ${describeMatch(this.match)}`;
    const text = r.text.trim();
    const pid = Number(text.split(/\s+/)[0]);
    if (!Number.isInteger(pid) || pid <= 0) return `pidfile ${file} holds "${text.slice(0, 40)}", expected a pid`;
    const stat = readStat(pid);
    if (stat === null) return `pidfile ${file} names pid ${pid}, which is not running`;
    if (isDead(stat)) return `pidfile ${file} names pid ${pid}, which is a zombie (state ${stat.state}), not running`;
    const c = this.candidate(pid);
    if (!this.matches(c)) return `pidfile ${file} names pid ${pid}, which is "${c.cmd.slice(0, 80) || c.comm}", not ${describeMatch(this.match)}`;
    const scope = this.outOfScope(pid);
    if (scope === 'namespace') return `pidfile ${file} names pid ${pid}, which runs in another pid namespace (a container?), not this host's (process.namespace: any to accept it)`;
    if (scope === 'unit') return `pidfile ${file} names pid ${pid}, which is not in unit ${this.match.unit}`;
    return pid;
  }

  private async search(snapshot: PollSnapshot): Promise<{ known: Known[]; reason: string }> {
    const all = await snapshot.processes();
    const mine = descendantsOf(this.self, all);
    const known: Known[] = [];
    const ppids = new Map<number, number>();
    let sameName = 0;
    let zombies = 0;
    const outside = { namespace: 0, unit: 0 };
    for (const p of all) {
      if (mine.has(p.pid)) continue; // the watchdog and its own children are never the service
      // ps-list's name is the exe's basename; comm is consulted only when it could matter.
      const maybe = p.name === this.match.name || p.cmd.includes(this.match.name);
      if (!maybe) continue;
      const stat = readStat(p.pid);
      const c: Candidate = { pid: p.pid, exe: p.name, comm: stat?.comm ?? null, cmd: p.cmd };
      if (c.exe !== this.match.name && c.comm !== this.match.name) continue;
      sameName += 1;
      if (!this.matches(c)) continue;
      const scope = this.outOfScope(p.pid);
      if (scope) {
        outside[scope] += 1;
        continue;
      }
      if (isDead(stat)) {
        zombies += 1;
        continue;
      }
      known.push({ pid: p.pid, startTime: stat!.startTime });
      ppids.set(p.pid, p.ppid);
    }
    for (const k of known) if (ppids.has(ppids.get(k.pid)!)) k.child = true;
    let reason = `no running process ${describeMatch(this.match)}`;
    if (sameName && this.match.args !== undefined) reason += ` (${sameName} named "${this.match.name}" found, none with matching args)`;
    if (zombies) reason += ` (${zombies} zombie(s) ignored)`;
    if (outside.namespace) reason += ` (${outside.namespace} matching in another pid namespace ignored: a container's are not this host's; process.namespace: any to count them)`;
    if (outside.unit) reason += ` (${outside.unit} matching outside unit ${this.match.unit} ignored)`;
    return { known, reason };
  }
}

function descendantsOf(root: number, all: ListedProcess[]): Set<number> {
  const children = new Map<number, number[]>();
  for (const p of all) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p.pid]);
  const out = new Set<number>([root]);
  const stack = [root];
  while (stack.length) for (const c of children.get(stack.pop()!) ?? []) if (!out.has(c)) out.add(c), stack.push(c);
  return out;
}
