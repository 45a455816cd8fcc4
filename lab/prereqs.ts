// Can the lab run here? Used by lab tests to skip (locally) or fail (CI=true).
import { existsSync } from 'node:fs';

const REQUIRED: Array<[pkg: string, file: string]> = [
  ['keepalived', '/usr/sbin/keepalived'],
  ['nginx', '/usr/sbin/nginx'],
  ['tomcat10', '/usr/share/tomcat10/bin/catalina.sh'],
  ['iproute2', '/usr/sbin/ip'],
  ['util-linux', '/usr/bin/unshare'],
  ['util-linux', '/usr/bin/nsenter'],
  ['procps', '/usr/bin/pgrep'],
  ['psmisc', '/usr/bin/killall'],
  ['curl', '/usr/bin/curl'],
  ['default-jre-headless', '/usr/bin/java'],
  // javac builds the lab's webapp (lab/webapp) at lab set-up.
  ['default-jdk-headless', '/usr/bin/javac'],
];

/** Why the lab cannot run on this machine, or undefined when it can. */
export function labUnavailableReason(): string | undefined {
  if (process.platform !== 'linux') return `the lab needs Linux (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'the lab needs root (network/pid namespaces)';
  const missing = [...new Set(REQUIRED.filter(([, f]) => !existsSync(f)).map(([p]) => p))];
  if (missing.length) return `lab packages missing: ${missing.join(' ')} (run lab/prereqs.sh --install)`;
  return undefined;
}

/**
 * For node:test's `skip` option: the reason (printed) when the lab cannot run,
 * false when it can. With CI=true it is always false, so that a lab test on a
 * CI machine without the prerequisites fails (in Lab.up) instead of skipping.
 */
export function labSkip(): string | false {
  const reason = labUnavailableReason();
  if (!reason) return false;
  if (process.env.CI === 'true') return false;
  process.stderr.write(`lab tests skipped: ${reason}\n`);
  return reason;
}
