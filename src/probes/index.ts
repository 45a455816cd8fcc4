// The probe registry: builds each service's probes from the config once, and observes
// every service and keepalived concurrently each poll. A probe that throws is a failed
// observation with its reason, never a crash. A slow probe (a hung service's HTTP check
// waits out its timeout) holds no one up: a poll waits at most `waitMs` for answers,
// decides on those, and the late answer is handed to the next poll (`onLate` says it
// came). A service whose probe has not answered yet is not probed a second time.
import type { Config } from '../config/load.js';
import { readTrackFile } from '../os/track-file.js';
import type { KeepalivedObservation, Observations, PeerObservation, ProbeResult, ServiceObservation, VipObservation } from '../policy/types.js';
import { HttpProbe } from './http.js';
import { askPeer } from './peer.js';
import { undiciClient, type UndiciClient } from '../net/undici.js';
import { PollSnapshot, ProcessProbe, psList, type KnownSet, type ListedProcess } from './process.js';

/** Per process probe ("<service>" or "keepalived"): the pids it confirms each poll. */
export type KnownPids = Record<string, KnownSet>;
import { checkTcp } from './tcp.js';
import { vipHeld } from './vip-held.js';

type Check = (snapshot: PollSnapshot) => Promise<ProbeResult>;

export class Probes {
  private readonly services: Map<string, Array<{ kind: ProbeResult['probe']; run: Check }>>;
  private readonly keepalived: ProcessProbe;
  private readonly vip?: HttpProbe;
  private readonly trackFile?: string;
  private readonly peer?: Config['peer'];
  private readonly vipUrl?: string;
  private readonly processes = new Map<string, ProcessProbe>();
  private readonly https: HttpProbe[] = [];
  /** How many full process-table scans the last poll needed (0 in the steady state). */
  lastScans = 0;
  /** Services (and "vip") whose probe is in flight. */
  private readonly pending = new Set<string>();
  /** Answers that came after their poll had decided, for the next one. */
  private readonly late = new Map<string, ServiceObservation>();
  private lateVip?: VipObservation;
  /** A late answer came in (the daemon polls at once). */
  onLate?: () => void;

  constructor(
    config: Config,
    private readonly list: () => Promise<ListedProcess[]> = psList,
  ) {
    this.services = new Map(
      Object.entries(config.services).map(([name, s]) => {
        const checks: Array<{ kind: ProbeResult['probe']; run: Check }> = [];
        if (s.process) {
          const p = new ProcessProbe(s.process);
          this.processes.set(name, p);
          checks.push({ kind: 'process', run: (snap) => p.check(snap) });
        }
        if (s.http) {
          const h = new HttpProbe(s.http);
          this.https.push(h);
          checks.push({ kind: 'http', run: () => h.check() });
        }
        if (s.tcp) {
          const t = s.tcp;
          checks.push({ kind: 'tcp', run: () => checkTcp(t) });
        }
        return [name, checks];
      }),
    );
    this.keepalived = new ProcessProbe(config.keepalived.process);
    this.processes.set('keepalived', this.keepalived);
    if (config.keepalived.vip) {
      this.vip = new HttpProbe(config.keepalived.vip);
      this.https.push(this.vip);
    }
    if (config.keepalived.control === 'track-file') this.trackFile = config.keepalived.trackFile;
    this.vipUrl = config.keepalived.vip?.url;
    this.peer = config.peer;
  }

  /**
   * The peer guard's question (only when `peer` is configured): the answer to one asked
   * now. Never an earlier one: each decision that may hinge on it (down, a failed
   * restart) asks anew, since the peer may have failed in between (both hosts losing
   * tomcat within a second).
   */
  async askPeer(): Promise<PeerObservation | undefined> {
    return this.peer ? askPeer(this.peer) : undefined;
  }

  private peerAsking = false;
  private peerLatest?: PeerObservation;
  private peerKept?: InstanceType<UndiciClient['Dispatcher']>;

  /**
   * The peer's newest answer not yet taken, asked in the background: a question is sent
   * if none is in flight, and its answer is taken by a later poll. A peer that does not
   * answer never holds a poll up.
   */
  peerInBackground(): PeerObservation | undefined {
    if (this.peer && !this.peerAsking) {
      this.peerAsking = true;
      const peer = this.peer;
      const { Agent } = undiciClient();
      void askPeer(peer, (this.peerKept ??= new Agent({ connect: { timeout: peer.timeout }, keepAliveTimeout: 10_000 })))
        .then((a) => (this.peerLatest = a))
        .finally(() => (this.peerAsking = false));
    }
    const latest = this.peerLatest;
    this.peerLatest = undefined;
    return latest;
  }

  /**
   * One poll's observations: every service not still being probed, keepalived, the VIP.
   * `waitMs`: how long to wait for the answers (the rest come late); default: all.
   * `probe: false`: no service or VIP probe is started, the answers that came late are
   * this poll's (keepalived's processes are looked at all the same).
   */
  async observe(waitMs = Infinity, probe = true): Promise<Omit<Observations, 'outcomes'>> {
    const snapshot = new PollSnapshot(this.list);
    const services = new Map<string, ServiceObservation>();
    let vip: VipObservation | undefined;
    let decided = false;
    // Each answer lands here; one that comes after this poll decided is kept for the next.
    const track = <T>(key: string, probe: Promise<T>, take: (v: T) => void, keep: (v: T) => void): Promise<void> => {
      this.pending.add(key);
      return probe.then((v) => {
        this.pending.delete(key);
        if (!decided) return take(v);
        keep(v);
        this.onLate?.();
      });
    };
    const waits: Array<Promise<void>> = [];
    for (const [name, checks] of this.services) {
      if (!probe || this.pending.has(name)) continue;
      waits.push(track(name, observeService(checks, snapshot), (o) => void services.set(name, o), (o) => void this.late.set(name, o)));
    }
    if (probe && this.vip && !this.pending.has('vip')) {
      const probe = this.vip.check().then(
        (r): VipObservation => ({ ok: r.ok, reason: r.reason }),
        (e): VipObservation => ({ ok: false, reason: `probe crashed: ${(e as Error).message}` }),
      );
      waits.push(track('vip', probe, (v) => void (vip = v), (v) => void (this.lateVip = v)));
    }
    const keepalived = await this.keepalived.check(snapshot).then(
      (r): KeepalivedObservation => ({ running: r.ok, pids: r.pids ?? [], reason: r.reason }),
      (e): KeepalivedObservation => ({ running: false, pids: [], reason: `probe crashed: ${(e as Error).message}` }),
    );
    let timer: NodeJS.Timeout | undefined;
    const all = Promise.all(waits);
    await (Number.isFinite(waitMs) ? Promise.race([all, new Promise<void>((r) => (timer = setTimeout(r, waitMs)))]) : all);
    clearTimeout(timer);
    decided = true;
    // Late answers of earlier polls first; this poll's own (newer) answers win.
    const observed = Object.fromEntries([...this.late, ...services]);
    this.late.clear();
    vip ??= this.lateVip;
    this.lateVip = undefined;
    this.lastScans = snapshot.scans;
    if (this.trackFile) keepalived.track = readTrackFile(this.trackFile) ?? null;
    const held = this.vipUrl ? vipHeld(this.vipUrl).held : 'unknown';
    return { services: observed, keepalived, ...(vip && { vip }), ...(held !== 'unknown' && { vipHeld: held }) };
  }

  /** Whether a service's probe is still waiting for its answer. */
  probing(name: string): boolean {
    return this.pending.has(name);
  }

  knownPids(): KnownPids {
    return Object.fromEntries([...this.processes].map(([name, p]) => [name, p.exportKnown()]));
  }

  seedPids(known: KnownPids): void {
    for (const [name, p] of this.processes) p.importKnown(known[name]);
  }

  async close(): Promise<void> {
    for (const p of this.processes.values()) p.close();
    await Promise.all([...this.https.map((h) => h.close()), this.peerKept?.close().catch(() => undefined)]);
  }
}

async function observeService(checks: Array<{ kind: ProbeResult['probe']; run: Check }>, snapshot: PollSnapshot): Promise<ServiceObservation> {
  const probes = await Promise.all(
    checks.map(({ kind, run }) =>
      run(snapshot).catch((e): ProbeResult => ({ probe: kind, ok: false, reason: `probe crashed: ${(e as Error).message}`, durationMs: 0 })),
    ),
  );
  return { ok: probes.every((p) => p.ok), probes };
}
