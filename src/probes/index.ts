// The probe registry: builds each service's probes from the config once, and observes
// every service and keepalived concurrently each poll. A probe that throws is a failed
// observation with its reason, never a crash.
import type { Config } from '../config/load.js';
import { readTrackFile } from '../actions/track-file.js';
import type { KeepalivedObservation, Observations, PeerObservation, ProbeResult, ServiceObservation, VipObservation } from '../policy/types.js';
import { HttpProbe } from './http.js';
import { askPeer } from './peer.js';
import { PollSnapshot, ProcessProbe, psList, type KnownSet, type ListedProcess } from './process.js';

/** Per process probe ("<service>" or "keepalived"): the pids it confirms each poll. */
export type KnownPids = Record<string, KnownSet>;
import { checkTcp } from './tcp.js';

type Check = (snapshot: PollSnapshot) => Promise<ProbeResult>;

export class Probes {
  private readonly services: Map<string, Array<{ kind: ProbeResult['probe']; run: Check }>>;
  private readonly keepalived: ProcessProbe;
  private readonly vip?: HttpProbe;
  private readonly trackFile?: string;
  private readonly peer?: Config['peer'];
  private readonly processes = new Map<string, ProcessProbe>();
  private readonly https: HttpProbe[] = [];
  /** How many full process-table scans the last poll needed (0 in the steady state). */
  lastScans = 0;

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
    this.peer = config.peer;
  }

  /** The peer guard's question (only when `peer` is configured). */
  async askPeer(): Promise<PeerObservation | undefined> {
    return this.peer ? askPeer(this.peer) : undefined;
  }

  async observe(): Promise<Omit<Observations, 'outcomes'>> {
    const snapshot = new PollSnapshot(this.list);
    const [services, keepalived, vip] = await Promise.all([
      Promise.all([...this.services].map(async ([name, checks]) => [name, await observeService(checks, snapshot)] as const)),
      this.keepalived.check(snapshot).then(
        (r): KeepalivedObservation => ({ running: r.ok, pids: r.pids ?? [], reason: r.reason }),
        (e): KeepalivedObservation => ({ running: false, pids: [], reason: `probe crashed: ${(e as Error).message}` }),
      ),
      this.vip?.check().then(
        (r): VipObservation => ({ ok: r.ok, reason: r.reason }),
        (e): VipObservation => ({ ok: false, reason: `probe crashed: ${(e as Error).message}` }),
      ),
    ]);
    this.lastScans = snapshot.scans;
    if (this.trackFile) keepalived.track = readTrackFile(this.trackFile) ?? null;
    return { services: Object.fromEntries(services), keepalived, ...(vip && { vip }) };
  }

  knownPids(): KnownPids {
    return Object.fromEntries([...this.processes].map(([name, p]) => [name, p.exportKnown()]));
  }

  seedPids(known: KnownPids): void {
    for (const [name, p] of this.processes) p.importKnown(known[name]);
  }

  async close(): Promise<void> {
    await Promise.all(this.https.map((h) => h.close()));
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
