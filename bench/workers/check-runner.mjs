// Item 4, run inside the bench namespace: wall time of whole commands, started from
// here (so the namespace entry is not counted), R rounds, the variants interleaved so
// a noisy moment spreads over all of them. Each command gets cron's environment
// (common.mjs cronEnv), as `check` from cron does.
//   node check-runner.mjs SPEC.json   SPEC: { rounds, variants: [{ name, argv, json? }] }
// Prints { results: { name: [{ ms, code, out? }] } }; with json: true, the command's last
// stdout line is parsed and kept as out.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cronEnv, emit } from './common.mjs';

const spec = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const results = Object.fromEntries(spec.variants.map((v) => [v.name, []]));
for (let round = 0; round < spec.rounds; round++) {
  for (const v of spec.variants) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(v.argv[0], v.argv.slice(1), { encoding: 'utf8', timeout: 60_000, env: cronEnv() });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    let out;
    if (v.json) {
      try {
        out = JSON.parse(r.stdout.trim().split('\n').pop());
      } catch {
        out = { error: `${r.stdout}\n${r.stderr}`.slice(-500) };
      }
    }
    results[v.name].push({ ms, code: r.status, ...(out !== undefined && { out }), ...(r.status !== 0 && { stderr: `${r.stdout}\n${r.stderr}`.slice(-500) }) });
  }
}
emit({ results });
