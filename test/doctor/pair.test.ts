// `ha-watchdog doctor` between two real agents on loopback (127.0.0.1 and 127.0.0.2 as
// the two hosts), each with its own keepalived.conf, asking each other's /pair.
import assert from 'node:assert/strict';
import { appendFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { requireRoot } from '../helpers/prereq.js';
import { events, freePort, Stage } from '../helpers/stage.js';
import { waitFor } from '../helpers/wait.js';
import { LAB_LIKE } from '../keepalived/fixtures.js';

const skip = requireRoot();

/** GET path on 127.0.0.1:port from a chosen local address: status and body. */
function get(port: number, path: string, from: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, localAddress: from }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('doctor: the pair, between two real agents (integration)', { skip, concurrency: false }, () => {
  const stages: Stage[] = [];
  const confs: string[] = [];
  const configs: string[] = [];
  let ports: number[] = [];

  before(async () => {
    ports = [await freePort(), await freePort()];
    const addr = ['127.0.0.1', '127.0.0.2'];
    for (const i of [0, 1]) {
      const s = await Stage.create();
      stages.push(s);
      await s.startServices();
      const conf = join(s.dir, 'keepalived.conf');
      writeFileSync(conf, i === 0 ? LAB_LIKE() : LAB_LIKE({ prio: 100 }).replace('state MASTER', 'state BACKUP'));
      confs.push(conf);
      const config = s.config({ extra: `metrics: { listen: "${addr[i]}:${ports[i]}" }\npeer: { url: "http://${addr[1 - i]}:${ports[1 - i]}/healthz", timeout: 5s }\n` });
      appendFileSync(config, `  config: ${conf}\n`);
      configs.push(config);
      const a = await s.startAgent(config);
      await waitFor(() => events(a.lines, 'metrics.listen').length, 15_000, { what: 'metrics.listen' });
    }
  });
  after(async () => {
    await Promise.all(stages.map((s) => s.destroy()));
  });

  it('/pair answers the configured peer only; the summary carries a keyed hash, never the password', async () => {
    const other = await get(ports[0]!, '/pair?nonce=00112233445566778899', '127.0.0.3');
    assert.equal(other.status, 403);
    const peer = await get(ports[0]!, '/pair?nonce=00112233445566778899', '127.0.0.2');
    assert.equal(peer.status, 200);
    const body = JSON.parse(peer.body);
    assert.equal(body.keepalived.instances[0].virtualRouterId.value, 51);
    assert.ok(!peer.body.includes('halab'), 'no password in the answer');
    assert.equal((await get(ports[0]!, '/pair?nonce=xyz', '127.0.0.2')).status, 400);
  });

  it('the pair as built -> exit 0, no finding', async () => {
    const r = await stages[0]!.cli(['doctor', '-c', configs[0]!]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /this host and its peer: no problem found/);
  });

  it('B\'s virtual_router_id changed -> exit 2 on both sides, naming virtual_router_id with file:line on each', async () => {
    writeFileSync(confs[1]!, LAB_LIKE({ prio: 100, vrid: 52 }).replace('state MASTER', 'state BACKUP'));
    const a = await stages[0]!.cli(['doctor', '-c', configs[0]!]);
    assert.equal(a.code, 2, a.stdout);
    assert.ok(a.stdout.includes(`error: ${confs[0]}:21: virtual_router_id: vrrp_instance VI_1: virtual_router_id differs: 51 here, 52 on the peer (peer: ${confs[1]}:21)`), a.stdout);
    const b = await stages[1]!.cli(['doctor', '-c', configs[1]!, '--json']);
    assert.equal(b.code, 2, b.stdout);
    const report = JSON.parse(b.stdout);
    assert.deepEqual(report.findings.map((f: { key: string }) => f.key), ['virtual_router_id']);
  });

  it('the peer\'s agent stopped -> exit 3: the pair could not be compared, this host\'s findings still given', async () => {
    await stages[1]!.destroy();
    stages.splice(1, 1);
    const r = await stages[0]!.cli(['doctor', '-c', configs[0]!]);
    assert.equal(r.code, 3, r.stdout);
    assert.match(r.stdout, /note: pair not compared: the peer's agent \(http:\/\/127\.0\.0\.2:\d+\) could not be asked/);
  });
});
