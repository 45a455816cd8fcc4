// A stand-in load-balancer host inside a BenchNamespace: processes whose executable
// basename is `java` (command line with org.apache.catalina.startup.Bootstrap, serving
// HTTP on 127.0.0.1:8080), `nginx` (a master serving /nginx-health on 127.0.0.1:80 and
// two idle workers, its children) and `keepalived` (three idle processes, like
// keepalived's parent and its VRRP and checker children), optional idle filler processes for a host-sized process
// table, restart/start/stop scripts, and a watchdog.yaml shaped like the shipped one.
// The executables are hard links (or copies) of node and sleep under those names.
import { chmodSync, copyFileSync, existsSync, linkSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BenchNamespace, sleep } from './ns.js';
import { worker } from './paths.js';

const SLEEP = ['/usr/bin/sleep', '/bin/sleep'].find((p) => existsSync(p)) ?? '/usr/bin/sleep';
const FILLER_NAMES = ['systemd-journald', 'systemd-udevd', 'systemd-logind', 'sshd', 'cron', 'rsyslogd', 'dbus-daemon', 'agetty', 'chronyd', 'unattended-upgr', 'polkitd', 'php-fpm8.2', 'bash', 'sd-pam'];

export interface ConfigOptions {
  interval?: string;
  fall?: number;
  rise?: number;
  httpTimeout?: string;
  tag?: string;
}

export class StandInHost {
  readonly dir: string;

  private constructor(readonly ns: BenchNamespace) {
    this.dir = mkdtempSync(join(tmpdir(), 'haw-bench-'));
    chmodSync(this.dir, 0o755);
    for (const d of ['exe', 'exe-idle', 'run', 'bin']) mkdirSync(join(this.dir, d));
    link(process.execPath, join(this.dir, 'exe', 'java'));
    link(process.execPath, join(this.dir, 'exe', 'nginx'));
    for (const n of ['nginx', 'keepalived', ...FILLER_NAMES]) link(SLEEP, join(this.dir, 'exe-idle', n));
    const d = this.dir;
    const server = worker('standin-server.mjs');
    const waitPid = (f: string) => `for i in $(seq 100); do [ -s ${f} ] && exit 0; sleep 0.05; done; echo "no ${f}" >&2; exit 1`;
    const killPids = (glob: string) => `for f in ${glob}; do [ -f "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null; rm -f "$f"; done`;
    const bg = (cmd: string) => `setsid ${cmd} </dev/null >/dev/null 2>&1 &`;
    const tomcatArgs =
      '-Djava.util.logging.config.file=/var/lib/tomcat10/conf/logging.properties -Djava.util.logging.manager=org.apache.juli.ClassLoaderLogManager -Djava.awt.headless=true -Djdk.tls.ephemeralDHKeySize=2048 -classpath /usr/share/tomcat10/bin/bootstrap.jar:/usr/share/tomcat10/bin/tomcat-juli.jar -Dcatalina.base=/var/lib/tomcat10 -Dcatalina.home=/usr/share/tomcat10 -Djava.io.tmpdir=/tmp org.apache.catalina.startup.Bootstrap start';
    this.script('start-tomcat', `${bg(`${d}/exe/java ${server} --port 8080 --pidfile ${d}/run/tomcat.pid ${tomcatArgs}`)}\n${waitPid(`${d}/run/tomcat.pid`)}`);
    this.script('restart-tomcat', `${killPids(`${d}/run/tomcat.pid`)}\nexec ${d}/bin/start-tomcat`);
    // As on a real host, nginx's workers are children of its master and keepalived's VRRP
    // and checker processes children of its parent: a shell forks the children, writes
    // their pids, then execs into the parent.
    this.script(
      'start-nginx',
      `${bg(`bash -c 'for w in 1 2; do ${d}/exe-idle/nginx infinity & echo $! > ${d}/run/nginx-worker$w.pid; done; exec ${d}/exe/nginx ${server} --port 80 --pidfile ${d}/run/nginx.pid -g "daemon on; master_process on;"'`)}
${waitPid(`${d}/run/nginx.pid`)}`,
    );
    this.script('restart-nginx', `${killPids(`${d}/run/nginx*.pid`)}\nexec ${d}/bin/start-nginx`);
    this.script(
      'start-keepalived',
      `${bg(`bash -c 'for k in 2 3; do ${d}/exe-idle/keepalived infinity & echo $! > ${d}/run/keepalived$k.pid; done; echo $$ > ${d}/run/keepalived1.pid; exec ${d}/exe-idle/keepalived infinity'`)}
${waitPid(`${d}/run/keepalived1.pid`)}`,
    );
    this.script('stop-keepalived', `for f in ${d}/run/keepalived*.pid; do [ -f "$f" ] && kill -TERM "$(cat "$f")" 2>/dev/null; rm -f "$f"; done; exit 0`);
    this.script(
      'start-filler',
      `names=(${FILLER_NAMES.join(' ')}); for ((i = 0; i < $1; i++)); do ${bg(`${d}/exe-idle/\${names[i % \${#names[@]}]} infinity`)} done`,
    );
  }

  static async create(opts: { filler?: number } = {}): Promise<StandInHost> {
    const ns = await BenchNamespace.create();
    const host = new StandInHost(ns);
    try {
      for (const s of ['start-tomcat', 'start-nginx', 'start-keepalived']) await host.exec(s);
      if (opts.filler) await host.exec('start-filler', String(opts.filler));
      await host.waitHealthy();
    } catch (e) {
      host.destroy();
      throw e;
    }
    return host;
  }

  private script(name: string, body: string): void {
    const p = join(this.dir, 'bin', name);
    writeFileSync(p, `#!/bin/bash\n${body}\n`);
    chmodSync(p, 0o755);
  }

  /** Runs one of the host's scripts inside the namespace. */
  async exec(name: string, ...args: string[]): Promise<void> {
    const r = await this.ns.run([join(this.dir, 'bin', name), ...args], { timeoutMs: 30_000 });
    if (r.code !== 0) throw new Error(`${name}: exit ${r.code}: ${r.stderr.trim()}`);
  }

  /** Both stand-in servers answer (checked from inside the namespace). */
  async waitHealthy(timeoutMs = 10_000): Promise<void> {
    const probe = `const ok=async(u)=>{try{return (await fetch(u)).status===200}catch{return false}};process.exit((await ok('http://127.0.0.1:8080/'))&&(await ok('http://127.0.0.1/nginx-health'))?0:1)`;
    const end = Date.now() + timeoutMs;
    for (;;) {
      const r = await this.ns.run([process.execPath, '--input-type=module', '-e', probe], { timeoutMs: 5000 });
      if (r.code === 0) return;
      if (Date.now() > end) throw new Error(`stand-in servers not answering: ${r.stderr.trim()}`);
      await sleep(100);
    }
  }

  /** Host pid of the current tomcat stand-in. */
  tomcatHostPid(): number {
    const inner = Number(readFileSync(join(this.dir, 'run', 'tomcat.pid'), 'utf8'));
    const pid = this.ns.hostPid(inner);
    if (pid === null) throw new Error(`tomcat stand-in (pid ${inner} in the namespace) not found`);
    return pid;
  }

  /** A watchdog.yaml like the shipped one (tomcat, nginx, keepalived; process + HTTP probes). */
  config(o: ConfigOptions = {}): string {
    const tag = o.tag ?? 'default';
    const t = o.httpTimeout ?? '2s';
    const fall = o.fall ?? 2;
    const rise = o.rise ?? 2;
    const bin = (n: string) => JSON.stringify([join(this.dir, 'bin', n)]);
    const text = `# written by bench/lib/host.ts: the shipped watchdog.yaml's shape, stand-in commands
interval: ${o.interval ?? '3s'}
stateDir: ${join(this.dir, `state-${tag}`)}
services:
  tomcat:
    critical: true
    process:
      name: java
      args: 'org\\.apache\\.catalina\\.startup\\.Bootstrap'
    http:
      url: http://127.0.0.1:8080/
      timeout: ${t}
      expectStatus: [200]
    fall: ${fall}
    rise: ${rise}
    restart:
      command: ${bin('restart-tomcat')}
      timeout: 60s
      grace: 90s
      attempts: 1
  nginx:
    critical: true
    process:
      name: nginx
    http:
      url: http://127.0.0.1/nginx-health
      timeout: ${t}
    fall: ${fall}
    rise: ${rise}
    restart:
      command: ${bin('restart-nginx')}
      timeout: 30s
      grace: 30s
      attempts: 2
keepalived:
  process:
    name: keepalived
  start:
    command: ${bin('start-keepalived')}
    timeout: 30s
  stop:
    command: ${bin('stop-keepalived')}
    timeout: 30s
`;
    const file = join(this.dir, `watchdog-${tag}.yaml`);
    writeFileSync(file, text, { mode: 0o644 });
    chmodSync(file, 0o644);
    return file;
  }

  destroy(): void {
    this.ns.destroy();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function link(from: string, to: string): void {
  try {
    linkSync(from, to);
  } catch {
    copyFileSync(from, to);
    chmodSync(to, 0o755);
  }
}
