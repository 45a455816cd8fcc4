// contrib/: the Prometheus alerting rules pass their own unit tests (promtool test
// rules), and every metric the rules and the Grafana dashboard query is one a live
// agent really exports: the built agent (dist/cli.js `run`) supervising a stand-in
// tomcat in a pid namespace, scraped over HTTP after a kill and a restart (so the
// series that appear only after a restart exist too).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse } from 'yaml';
import { requireRoot } from '../helpers/prereq.js';
import { events, freePort, ROOT, Stage, type LogLine } from '../helpers/stage.js';
import { waitFor } from '../helpers/wait.js';

const RULES_DIR = join(ROOT, 'contrib/prometheus');
const DASHBOARD = join(ROOT, 'contrib/grafana/ha-watchdog.json');
const hasPromtool = spawnSync('sh', ['-c', 'command -v promtool']).status === 0;
if (!hasPromtool && process.env.CI === 'true') throw new Error('monitoring tests: promtool missing under CI=true (apt-get install prometheus)');
const rootSkip = requireRoot();

/** Metric names in a PromQL expression (up is Prometheus's own, time() a function). */
function metricNames(expr: string): string[] {
  return [...expr.matchAll(/\b((?:ha_watchdog|process)_[a-z_]+)\b/g)].map((m) => m[1]!);
}

function ruleExprs(): Array<{ alert: string; expr: string }> {
  const doc = parse(readFileSync(join(RULES_DIR, 'ha-watchdog.rules.yml'), 'utf8')) as { groups: Array<{ rules: Array<{ alert: string; expr: string }> }> };
  return doc.groups.flatMap((g) => g.rules);
}

function dashboardExprs(): Array<{ panel: string; expr: string }> {
  const d = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { panels: Array<{ title: string; targets?: Array<{ expr: string }> }>; templating: { list: Array<{ name: string; query: string }> } };
  return [
    ...d.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr }))),
    ...d.templating.list.map((v) => ({ panel: `variable $${v.name}`, expr: v.query })),
  ];
}

describe('contrib/prometheus: the alerting rules', { skip: hasPromtool ? false : 'promtool missing (apt-get install prometheus)' }, () => {
  it('promtool check rules, and promtool test rules: every alert fires when it should and not before', () => {
    const c = spawnSync('promtool', ['check', 'rules', 'ha-watchdog.rules.yml'], { cwd: RULES_DIR, encoding: 'utf8' });
    assert.equal(c.status, 0, c.stdout + c.stderr);
    const t = spawnSync('promtool', ['test', 'rules', 'ha-watchdog.rules.test.yml'], { cwd: RULES_DIR, encoding: 'utf8' });
    assert.equal(t.status, 0, t.stdout + t.stderr);
    assert.match(t.stdout, /SUCCESS/);
    // Every alert has a test that expects it to fire.
    const tests = readFileSync(join(RULES_DIR, 'ha-watchdog.rules.test.yml'), 'utf8');
    for (const { alert } of ruleExprs()) {
      assert.match(tests, new RegExp(`alertname: ${alert}\\n\\s+exp_alerts:\\n\\s+- exp_labels`), `no test expects ${alert} to fire`);
    }
  });
});

describe('contrib: every metric the rules and the dashboard query exists in a live agent\'s /metrics', { skip: rootSkip, concurrency: false }, () => {
  let stage: Stage;
  let agent: { lines: LogLine[]; pid: number };
  let port = 0;
  let exported = new Set<string>();

  before(async () => {
    port = await freePort();
    stage = await Stage.create();
    await stage.startServices();
    agent = await stage.startAgent(stage.config({ extra: `metrics: { listen: "127.0.0.1:${port}" }\n` }));
    await waitFor(() => events(agent.lines, 'service.up', 'tomcat').length, 15_000, { what: 'tomcat up' });
    // A restart, so that the series that exist only once a start was seen (start time) are there too.
    process.kill(stage.tomcatPid(), 'SIGKILL');
    await waitFor(() => events(agent.lines, 'restart.ok', 'tomcat').length, 20_000, { what: 'restart.ok' });
    const text = await waitFor(async () => {
      const t = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      return t.includes('ha_watchdog_service_start_seconds{') ? t : undefined;
    }, 10_000, { what: 'a scrape with the learned start time' });
    exported = new Set(text.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(l)![0]));
  });
  after(async () => {
    await stage?.destroy();
  });

  it('the alerting rules', () => {
    const used = ruleExprs().flatMap((r) => metricNames(r.expr).map((m) => [r.alert, m] as const));
    assert.ok(used.length > 10);
    for (const [alert, m] of used) assert.ok(exported.has(m), `${alert} uses ${m}, which the agent does not export (exported: ${[...exported].join(' ')})`);
  });

  it('the Grafana dashboard (panels and variables)', () => {
    const used = dashboardExprs().flatMap((p) => metricNames(p.expr).map((m) => [p.panel, m] as const));
    assert.ok(used.length > 20);
    for (const [panel, m] of used) assert.ok(exported.has(m), `panel "${panel}" uses ${m}, which the agent does not export`);
    // and the dashboard shows every ha_watchdog_ metric there is
    const shown = new Set(used.map(([, m]) => m.replace(/_(bucket|count|sum)$/, '')));
    for (const m of exported) if (m.startsWith('ha_watchdog_')) assert.ok(shown.has(m.replace(/_(bucket|count|sum)$/, '')), `the dashboard shows nothing of ${m}`);
  });
});
