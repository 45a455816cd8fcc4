// `doctor`'s rules, pure: this host's keepalived.conf and agent config on their own,
// then the two hosts together. Each finding says where (file:line) on each side.
import type { Where } from '../keepalived/conf.js';
import { vipAddress, type KeepalivedSummary, type VrrpInstance } from '../keepalived/summary.js';

export interface Finding {
  level: 'error' | 'warning';
  /** The keepalived keyword or agent config key concerned, e.g. "virtual_router_id". */
  key: string;
  message: string;
  where?: Where;
  /** The same value on the peer, when the finding compares the two. */
  peer?: Where;
}

/** What doctor needs of an agent's own config (this host's, or the peer's from its /pair). */
export interface AgentSide {
  /** metrics.listen as "host:port". */
  listen?: string;
  /** peer.url's "host:port". */
  peer?: string;
  control: 'stop' | 'track-file';
  trackFile: string;
  /** keepalived.vip's URL host. */
  vipHost?: string;
}

export interface Side {
  keepalived: KeepalivedSummary;
  agent: AgentSide;
}

export function checkHost(side: Side, opts: { keepalivedRestart?: { value: string; where?: string } } = {}): Finding[] {
  const { keepalived: k, agent: a } = side;
  const out: Finding[] = k.problems.map((p) => ({ level: 'error', key: 'keepalived.conf', message: p.message, where: p }));
  if (!k.instances.length) {
    out.push({ level: 'error', key: 'vrrp_instance', message: `no vrrp_instance in ${k.files[0] ?? 'keepalived.conf'}: nothing holds a VIP`, where: k.files[0] ? { file: k.files[0], line: 1 } : undefined });
    return out;
  }
  for (const i of k.instances) {
    if (a.control === 'track-file') {
      const tracked = i.trackFiles
        .map((t) => ({ t, def: k.trackFiles.find((d) => d.name === t.value) }))
        .filter(({ def }) => def?.path === a.trackFile);
      if (!tracked.length) {
        out.push({ level: 'error', key: 'track_file', where: i, message: `vrrp_instance ${i.name} does not track ${a.trackFile} (keepalived.control: track-file): writing 1 into it would move nothing` });
      }
      for (const { t, def } of tracked) {
        const weight = t.weight ?? def!.weight;
        if (weight !== 0) {
          out.push({ level: 'error', key: 'track_file', where: t.weight !== undefined ? t : def, message: `vrrp_instance ${i.name} tracks ${a.trackFile} with weight ${weight}: a 1 then changes the priority by ${weight} instead of forcing FAULT, and the VIP may stay; use weight 0` });
        }
      }
    }
    if (i.nopreempt) {
      const weighted = [
        ...i.trackScripts.map((t) => ({ t, w: t.weight ?? k.scripts.find((s) => s.name === t.value)?.weight ?? 0 })),
        ...i.trackFiles.map((t) => ({ t, w: t.weight ?? k.trackFiles.find((d) => d.name === t.value)?.weight ?? 1 })),
      ].filter(({ w }) => w !== 0);
      for (const { t, w } of weighted) {
        out.push({ level: 'warning', key: 'nopreempt', where: i.nopreempt, message: `vrrp_instance ${i.name} has nopreempt and tracks ${t.value} with weight ${w}: a failing check only lowers the priority, and with nopreempt the peer never takes the VIP for that; use weight 0 (FAULT) or drop nopreempt` });
      }
    }
  }
  if (a.vipHost !== undefined) {
    const vips = k.instances.flatMap((i) => i.vips.map((v) => vipAddress(v.value)));
    if (!vips.includes(a.vipHost)) out.push({ level: 'error', key: 'keepalived.vip', message: `keepalived.vip's host ${a.vipHost} is not a VIP of any vrrp_instance (${vips.join(', ') || 'none'}): the agent would watch the wrong address` });
  }
  const r = opts.keepalivedRestart;
  if (r && r.value !== 'no') {
    out.push({ level: 'warning', key: 'keepalived.service', message: `keepalived.service has Restart=${r.value}${r.where ? ` (${r.where})` : ''}: systemd would start keepalived again after the agent stopped it for a failover; install the drop-in (README: "keepalived.service: the drop-in")` });
  }
  return out;
}

/** The two hosts together: the same VRRP instances, told apart by priority, agents pointing at each other. */
export function checkPair(mine: Side, peer: Side): Finding[] {
  const out: Finding[] = [];
  for (const i of mine.keepalived.instances) {
    const p = peer.keepalived.instances.find((x) => x.name === i.name) ?? peer.keepalived.instances.find((x) => x.virtualRouterId?.value === i.virtualRouterId?.value);
    if (!p) {
      out.push({ level: 'error', key: 'vrrp_instance', where: i, message: `vrrp_instance ${i.name} has no counterpart on the peer (by name or virtual_router_id)` });
      continue;
    }
    const differ = (key: string, a: unknown, b: unknown, wa?: Where, wb?: Where, what = `${a ?? 'unset'} here, ${b ?? 'unset'} on the peer`) => {
      if (a !== b) out.push({ level: 'error', key, where: wa ?? i, peer: wb ?? p, message: `vrrp_instance ${i.name}: ${key} differs: ${what}` });
    };
    differ('virtual_router_id', i.virtualRouterId?.value, p.virtualRouterId?.value, i.virtualRouterId, p.virtualRouterId);
    differ('advert_int', i.advertInt?.value ?? 1, p.advertInt?.value ?? 1, i.advertInt, p.advertInt);
    differ('version', version(i, mine.keepalived), version(p, peer.keepalived), i.version ?? mine.keepalived.vrrpVersion, p.version ?? peer.keepalived.vrrpVersion);
    differ('auth_type', i.authType?.value, p.authType?.value, i.authType, p.authType);
    if (i.authHash?.value !== p.authHash?.value) {
      out.push({ level: 'error', key: 'auth_pass', where: i.authHash ?? i, peer: p.authHash ?? p, message: `vrrp_instance ${i.name}: auth_pass differs (compared by a keyed hash; neither password left its host)` });
    }
    const vi = i.vips.map((v) => vipAddress(v.value)).sort();
    const vp = p.vips.map((v) => vipAddress(v.value)).sort();
    differ('virtual_ipaddress', vi.join(' '), vp.join(' '), i.vips[0], p.vips[0], `[${vi.join(', ')}] here, [${vp.join(', ')}] on the peer`);
    if (i.priority.value === p.priority.value) {
      out.push({ level: 'warning', key: 'priority', where: 'file' in i.priority && i.priority.file ? (i.priority as Where) : i, peer: 'file' in p.priority && p.priority.file ? (p.priority as Where) : p, message: `vrrp_instance ${i.name}: both hosts have priority ${i.priority.value}: the election falls to the higher IP address; give one host a higher priority` });
    }
    if (i.state?.value === 'MASTER' && p.state?.value === 'MASTER') {
      out.push({ level: 'warning', key: 'state', where: i.state, peer: p.state, message: `vrrp_instance ${i.name}: both hosts start as state MASTER; one should be BACKUP` });
    }
  }
  const a = mine.agent;
  const b = peer.agent;
  if (a.peer !== undefined && b.listen !== undefined && a.peer !== b.listen) {
    out.push({ level: 'error', key: 'peer.url', message: `peer.url points at ${a.peer}, but the peer's agent listens on ${b.listen}` });
  }
  if (b.peer !== undefined && a.listen !== undefined && b.peer !== a.listen) {
    out.push({ level: 'error', key: 'peer.url', message: `the peer's peer.url points at ${b.peer}, but this agent listens on ${a.listen}` });
  }
  return out;
}

const version = (i: VrrpInstance, k: KeepalivedSummary): number => i.version?.value ?? k.vrrpVersion?.value ?? 2;
