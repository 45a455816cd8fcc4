// doctor's rules as table cases named after the situation, on keepalived.conf files
// parsed for real (the same text on both "hosts" unless a case changes it).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { checkHost, checkPair, type AgentSide, type Side } from '../../src/doctor/checks.js';
import { parseConf } from '../../src/keepalived/conf.js';
import { summarize } from '../../src/keepalived/summary.js';
import { LAB_LIKE } from '../keepalived/fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'haw-doctor-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const NONCE = '0123456789abcdef';
let n = 0;

function side(conf: string, agent: Partial<AgentSide> = {}): Side {
  const f = join(dir, `k${n++}.conf`);
  writeFileSync(f, conf);
  return { keepalived: summarize(parseConf(f), NONCE), agent: { control: 'stop', trackFile: '/run/ha-watchdog/keepalived.track', ...agent } };
}
const A = (o: Parameters<typeof LAB_LIKE>[0] = {}, agent: Partial<AgentSide> = {}) => side(LAB_LIKE(o), { listen: '10.0.0.11:9120', peer: '10.0.0.12:9120', ...agent });
const B = (o: Parameters<typeof LAB_LIKE>[0] = {}, agent: Partial<AgentSide> = {}) =>
  side(LAB_LIKE({ prio: 100, ...o }).replace('state MASTER', 'state BACKUP'), { listen: '10.0.0.12:9120', peer: '10.0.0.11:9120', ...agent });
const keys = (f: Array<{ key: string; level: string }>) => f.map((x) => `${x.level} ${x.key}`);

describe('doctor: the pair', () => {
  it('the lab as built (A MASTER 150, B BACKUP 100, same id, password, VIP) -> nothing to say', () => {
    assert.deepEqual(checkPair(A(), B()), []);
  });

  it('virtual_router_id differs -> error naming both files and lines', () => {
    const f = checkPair(A(), B({ vrid: 52 }));
    assert.deepEqual(keys(f), ['error virtual_router_id']);
    assert.match(f[0]!.message, /virtual_router_id differs: 51 here, 52 on the peer/);
    assert.equal(f[0]!.where!.line, 21);
    assert.equal(f[0]!.peer!.line, 21);
  });

  it('auth_pass differs -> error, and neither password appears anywhere in the finding', () => {
    const f = checkPair(A({ pass: 'secretA' }), B({ pass: 'secretB' }));
    assert.deepEqual(keys(f), ['error auth_pass']);
    assert.ok(!JSON.stringify(f).includes('secret'));
  });

  it('equal priorities -> warning; both MASTER -> warning', () => {
    assert.deepEqual(keys(checkPair(A(), B({ prio: 150 }))), ['warning priority']);
    const masters = checkPair(A(), side(LAB_LIKE({ prio: 100 }), { listen: '10.0.0.12:9120', peer: '10.0.0.11:9120' }));
    assert.deepEqual(keys(masters), ['warning state']);
  });

  it('a different VIP set or advert_int -> errors', () => {
    const b = side(LAB_LIKE({ prio: 100 }).replace('state MASTER', 'state BACKUP').replace('advert_int 1', 'advert_int 2').replace('192.168.56.70/24', '192.168.56.71/24'), { listen: '10.0.0.12:9120', peer: '10.0.0.11:9120' });
    assert.deepEqual(keys(checkPair(A(), b)), ['error advert_int', 'error virtual_ipaddress']);
  });

  it('peer.urls that do not point at each other -> errors', () => {
    const f = checkPair(A({}, { peer: '10.0.0.13:9120' }), B());
    assert.deepEqual(keys(f), ['error peer.url']);
    assert.match(f[0]!.message, /peer\.url points at 10\.0\.0\.13:9120, but the peer's agent listens on 10\.0\.0\.12:9120/);
  });
});

describe('doctor: this host', () => {
  it('the lab as built -> nothing to say', () => {
    assert.deepEqual(checkHost(A({}, { control: 'track-file', vipHost: '192.168.56.70' })), []);
  });

  it('track-file control, the file tracked with weight 1 -> error: a 1 lowers the priority instead of FAULT', () => {
    const f = checkHost(A({ track: '1' }, { control: 'track-file' }));
    assert.deepEqual(keys(f), ['error track_file']);
    assert.match(f[0]!.message, /weight 1: a 1 then changes the priority by 1 instead of forcing FAULT/);
  });

  it('track-file control, the instance tracks another file -> error', () => {
    const f = checkHost(A({}, { control: 'track-file', trackFile: '/run/other.track' }));
    assert.deepEqual(keys(f), ['error track_file']);
    assert.match(f[0]!.message, /does not track \/run\/other\.track/);
  });

  it('nopreempt with a weighted track -> warning', () => {
    const conf = LAB_LIKE({ track: '-50' }).replace('state MASTER', 'state BACKUP\n    nopreempt');
    assert.deepEqual(keys(checkHost(side(conf))), ['warning nopreempt']);
  });

  it('keepalived.vip not among the VIPs -> error; keepalived.service restarting by itself -> warning', () => {
    assert.deepEqual(keys(checkHost(A({}, { vipHost: '192.168.56.99' }))), ['error keepalived.vip']);
    assert.deepEqual(keys(checkHost(A(), { keepalivedRestart: { value: 'on-failure' } })), ['warning keepalived.service']);
    assert.deepEqual(checkHost(A(), { keepalivedRestart: { value: 'no' } }), []);
  });

  it('no vrrp_instance at all -> error', () => {
    assert.deepEqual(keys(checkHost(side('global_defs {\n}\n'))), ['error vrrp_instance']);
  });
});
