// The lab client: run INSIDE namespace C (ip netns exec <C> node --import tsx
// lab/client-main.ts ...) so its traffic originates there. Polls one URL (the
// VIP) every --interval-ms with a --timeout-ms budget and appends one JSON line
// per request to --out:
//   {"t":<epoch ms at send>,"who":"A"|"B"|"error","ms":<latency>,"status":200,"lb":"A","error":"..."}
// `who` comes from the tomcat page body ("host=A"); `lb` from nginx's X-Lab-Host
// header (present even on a 502). Stops by itself after --max-ms, and on
// SIGTERM/SIGINT. One request at a time, a fresh TCP connection each.
import { appendFileSync } from 'node:fs';
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    url: { type: 'string' },
    out: { type: 'string' },
    'interval-ms': { type: 'string', default: '50' },
    'timeout-ms': { type: 'string', default: '300' },
    'max-ms': { type: 'string', default: '300000' },
  },
});
const url = values.url;
const out = values.out;
if (!url || !out) {
  console.error('usage: client-main.ts --url http://VIP/ --out file.jsonl [--interval-ms 50] [--timeout-ms 300] [--max-ms 300000]');
  process.exit(2);
}
const intervalMs = Number(values['interval-ms']);
const timeoutMs = Number(values['timeout-ms']);
const maxMs = Number(values['max-ms']);

interface Sample {
  t: number;
  who: 'A' | 'B' | 'error';
  ms: number;
  status?: number;
  lb?: string;
  error?: string;
}

function probe(target: string): Promise<Sample> {
  const t = Date.now();
  const t0 = performance.now();
  return new Promise((resolve) => {
    let done = false;
    const finish = (s: Omit<Sample, 't' | 'ms'>) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve({ t, ms: Math.round((performance.now() - t0) * 10) / 10, ...s });
    };
    const req = http.get(target, { agent: false, headers: { connection: 'close' } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        if (body.length < 4096) body += c;
      });
      res.on('end', () => {
        const lbHeader = res.headers['x-lab-host'];
        const lb = Array.isArray(lbHeader) ? lbHeader[0] : lbHeader;
        const m = /^host=([AB])\b/.exec(body);
        if (res.statusCode === 200 && m?.[1]) finish({ who: m[1] as 'A' | 'B', status: 200, lb });
        else finish({ who: 'error', status: res.statusCode, lb, error: `HTTP ${res.statusCode}` });
      });
      res.on('error', (e) => finish({ who: 'error', error: e.message }));
    });
    req.on('error', (e: NodeJS.ErrnoException) => finish({ who: 'error', error: e.code ?? e.message }));
    const timer = setTimeout(() => {
      finish({ who: 'error', error: 'timeout' });
      req.destroy();
    }, timeoutMs);
  });
}

let stopping = false;
process.on('SIGTERM', () => (stopping = true));
process.on('SIGINT', () => (stopping = true));

const started = Date.now();
let next = started;
while (!stopping && Date.now() - started < maxMs) {
  const s = await probe(url);
  appendFileSync(out, `${JSON.stringify(s)}\n`);
  next += intervalMs;
  const now = Date.now();
  if (next < now) next = now; // a slow request: skip the missed ticks
  await sleep(next - now);
}
process.exit(0);
