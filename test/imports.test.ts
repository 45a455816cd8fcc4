// The layers, stated over the real import graph of src/ (every static and dynamic
// import, `import type` told apart): probes observe and actions act, so neither
// imports the other; the policy does no I/O, so at run time it imports only the policy,
// the catalogue and pure helpers; src/os is the bottom layer; and there is no cycle.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../src');

interface Edge {
  from: string;
  to: string;
  /** `import type` / `export type`: erased, no code runs. */
  typeOnly: boolean;
}

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

/** Every import of every file under src/, as paths relative to src/ ("policy/decide.ts"), or the bare module name. */
export function importGraph(): Edge[] {
  const edges: Edge[] = [];
  const re = /(?:^|\n)\s*(import|export)\s+(type\s+)?[^'";]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;
  for (const file of files(SRC)) {
    const text = readFileSync(file, 'utf8');
    const from = relative(SRC, file);
    for (const m of text.matchAll(re)) {
      const spec = m[3] ?? m[4]!;
      const to = spec.startsWith('.') ? relative(SRC, resolve(dirname(file), spec)).replace(/\.js$/, '.ts') : spec;
      edges.push({ from, to, typeOnly: m[2] !== undefined });
    }
  }
  return edges;
}

const graph = importGraph();
const layer = (p: string) => p.split('/')[0]!;
const runtime = graph.filter((e) => !e.typeOnly);

describe('import rules (src/)', () => {
  it('reads a real graph (sanity: decide.ts imports keepalived.ts; the CLI reaches the daemon)', () => {
    assert.ok(graph.some((e) => e.from === 'policy/decide.ts' && e.to === 'policy/keepalived.ts'));
    assert.ok(graph.some((e) => e.from === 'cli.ts' && e.to === 'agent/daemon.ts'));
    assert.ok(graph.length > 150, `${graph.length} imports`);
  });

  it('probes never import actions, actions never import probes', () => {
    const bad = graph.filter((e) => (layer(e.from) === 'probes' && layer(e.to) === 'actions') || (layer(e.from) === 'actions' && layer(e.to) === 'probes'));
    assert.deepEqual(bad, []);
  });

  it('the policy does no I/O: at run time it imports only src/policy, src/catalogue and src/config/duration.ts (no node: module, no package)', () => {
    const allowed = (to: string) => ['policy', 'catalogue'].includes(layer(to)) || to === 'config/duration.ts';
    const bad = runtime.filter((e) => layer(e.from) === 'policy' && !allowed(e.to));
    assert.deepEqual(bad, []);
  });

  it('the catalogue is data: it imports types only', () => {
    assert.deepEqual(runtime.filter((e) => layer(e.from) === 'catalogue'), []);
  });

  it('src/os is the bottom layer: it imports only node: modules and itself', () => {
    const bad = graph.filter((e) => layer(e.from) === 'os' && !e.to.startsWith('node:') && layer(e.to) !== 'os');
    assert.deepEqual(bad, []);
  });

  it('the daemon keeps no config stack: nothing it imports at run time (dynamic imports too) reaches yaml, zod or the modules built on them; its helpers read the config and the state (src/config/load-apart.ts, src/agent/state-apart.ts)', () => {
    const heavy = new Set(['yaml', 'zod', 'config/load.ts', 'config/schema.ts', 'config/yaml-guard.ts', 'agent/state.ts', 'agent/state-schema.ts']);
    const next = new Map<string, string[]>();
    for (const e of runtime) next.set(e.from, [...(next.get(e.from) ?? []), e.to]);
    // Breadth-first from the daemon, keeping how each module was reached.
    const via = new Map<string, string>([['agent/daemon.ts', '']]);
    const queue = ['agent/daemon.ts'];
    const bad: string[] = [];
    while (queue.length) {
      const f = queue.shift()!;
      for (const t of next.get(f) ?? []) {
        if (via.has(t)) continue;
        via.set(t, f);
        if (heavy.has(t)) {
          const path = [t];
          for (let p = f; p; p = via.get(p)!) path.unshift(p);
          bad.push(path.join(' -> '));
        } else if (t.endsWith('.ts')) queue.push(t);
      }
    }
    assert.ok(via.has('config/load-apart.ts') && via.has('agent/state-apart.ts'), 'the daemon reads through its helpers');
    assert.deepEqual(bad, []);
  });

  it('no import cycle (run-time imports)', () => {
    const next = new Map<string, string[]>();
    for (const e of runtime) if (e.to.endsWith('.ts')) next.set(e.from, [...(next.get(e.from) ?? []), e.to]);
    const state = new Map<string, 'open' | 'done'>();
    const cycles: string[] = [];
    const visit = (f: string, path: string[]) => {
      if (state.get(f) === 'done') return;
      if (state.get(f) === 'open') {
        cycles.push([...path.slice(path.indexOf(f)), f].join(' -> '));
        return;
      }
      state.set(f, 'open');
      for (const t of next.get(f) ?? []) visit(t, [...path, f]);
      state.set(f, 'done');
    };
    for (const f of next.keys()) visit(f, []);
    assert.deepEqual(cycles, []);
  });
});
