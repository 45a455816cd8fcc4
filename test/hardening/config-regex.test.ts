// Issue 13.4: a catastrophic regex in the config stops the daemon. '^(a+)+$' on a
// backtracking engine takes minutes on 37 bytes of 'aaa...!'; as process.args, any local
// user can start a process with such a command line. Reproduced for real: a local HTTP
// server answering 'aaa...!' and a real process whose command line is 'aaa...!'. The
// probes run in a child process, bounded: a blocked event loop fails the test, it never
// hangs it. The probe must answer, and a 5 ms timer must keep firing meanwhile.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { requireRoot } from '../helpers/prereq.js';
import { ROOT } from './config-helpers.js';

const skip = requireRoot();
const CHILD = join(ROOT, 'test', 'hardening', 'config-probe-child.ts');
const EVIL = '^(a+)+$';
// Generous: a loaded CI machine may delay a timer, but never by the minutes backtracking takes.
const MAX_GAP_MS = 2000;

interface ChildOut {
  results: Array<{ ok: boolean; reason?: string; pids?: number[]; ms: number }>;
  maxGapMs: number;
  ticks: number;
}

/** Runs the probes in a child; fails (kills it) if it has not answered within timeoutMs. */
function runProbes(specs: unknown[], timeoutMs = 60_000): Promise<ChildOut> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, JSON.stringify(specs)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the probes did not answer within ${timeoutMs} ms: the event loop is blocked (${err})`));
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`probe child exited ${code}: ${err}${out}`));
      resolve(JSON.parse(out) as ChildOut);
    });
  });
}

describe('hardening: catastrophic regexes cannot stop the agent (issue 13.4)', { skip }, () => {
  let server: Server;
  let base: string;
  const dir = mkdtempSync(join(tmpdir(), 'haw-cfg-re-'));
  const started: number[] = [];
  before(async () => {
    server = createServer((req, res) => {
      const n = Number(new URL(req.url!, 'http://x').searchParams.get('n') ?? 36);
      const body = req.url!.startsWith('/match') ? 'a'.repeat(n) : `${'a'.repeat(n)}!`;
      res.writeHead(200, { 'content-type': 'text/plain' }).end(body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  after(() => {
    server?.close();
    server?.closeAllConnections();
    for (const pid of started) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it(`http.bodyMatches '${EVIL}' against a real server answering 'a' x 36 + '!' (37 bytes) and 'a' x 10240 + '!': the probe answers (no match), the loop keeps ticking`, async () => {
    const http = (path: string) => ({ kind: 'http', cfg: { url: `${base}${path}`, timeout: 5000, tlsVerify: true, bodyMatches: EVIL } });
    const out = await runProbes([http('/evil?n=36'), http('/evil?n=10240'), http('/match?n=36')]);
    const [short, long, match] = out.results;
    assert.deepEqual([short!.ok, long!.ok, match!.ok], [false, false, true], JSON.stringify(out));
    assert.match(short!.reason!, /body does not match \/\^\(a\+\)\+\$\//);
    assert.ok(out.maxGapMs < MAX_GAP_MS, `event loop blocked for ${Math.round(out.maxGapMs)} ms`);
    assert.ok(out.ticks > 0);
  });

  it(`process.args '${EVIL}' with a real process whose command line is 'a' x 10240 + '!': the scan answers, the loop keeps ticking`, async () => {
    // A copy of sleep under a name unique to this run, started as `exec -a aaa...! <copy> 300`:
    // its exe and comm are the unique name, its command line is 'aaa...a! 300'.
    const name = `hawre${process.pid % 100000}`;
    const exe = join(dir, name);
    copyFileSync('/bin/sleep', exe);
    const argv0 = `${'a'.repeat(10240)}!`;
    const pid = Number(execFileSync('bash', ['-c', `setsid bash -c 'exec -a "$0" "$1" 300' '${argv0}' '${exe}' >/dev/null 2>&1 </dev/null & echo $!`], { encoding: 'utf8' }).trim());
    started.push(pid);
    await new Promise((r) => setTimeout(r, 300));
    const out = await runProbes([
      { kind: 'process', match: { name, args: EVIL, namespace: 'own' } },
      // control: the same process is found by a pattern that does match its command line
      { kind: 'process', match: { name, args: '^a+! 300$', namespace: 'own' } },
    ]);
    const [evil, control] = out.results;
    assert.equal(control!.ok, true, `the decoy must be seen by the scan: ${JSON.stringify(control)}`);
    assert.deepEqual(control!.pids, [pid]);
    assert.equal(evil!.ok, false, JSON.stringify(evil));
    assert.match(evil!.reason!, /no running process/);
    assert.ok(out.maxGapMs < MAX_GAP_MS, `event loop blocked for ${Math.round(out.maxGapMs)} ms`);
  });
});
