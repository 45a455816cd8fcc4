// Whether the systemd container tests can run here: Linux, root, the host tools
// (REQUIRED_TOOLS) and /usr/bin/node; skipped otherwise, but a failure under CI=true.
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Host tools the harness needs, and the Debian package of each. */
export const REQUIRED_TOOLS: ReadonlyArray<readonly [tool: string, pkg: string]> = [
  ['debootstrap', 'debootstrap'],
  ['systemd-nspawn', 'systemd-container'],
  ['nsenter', 'util-linux'],
  ['unshare', 'util-linux'],
  ['flock', 'util-linux'],
  ['setpriv', 'util-linux'],
  ['mount', 'mount'],
];

export interface Gate {
  /** Set when the tests must be skipped (printed as the skip reason). */
  skip?: string;
  /** Set when CI=true and a prerequisite is missing: the tests must fail. */
  failure?: string;
}

function findTool(tool: string): string | undefined {
  for (const dir of ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin']) {
    const p = path.join(dir, tool);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      /* next */
    }
  }
  return undefined;
}

/** Why the systemd tests cannot run here, or nothing when they can. */
export function missingPrerequisite(): string | undefined {
  if (process.platform !== 'linux') return `systemd container tests need Linux (this is ${process.platform})`;
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) {
    return 'systemd container tests need root (systemd-nspawn, mount namespaces, cgroups)';
  }
  const missing = REQUIRED_TOOLS.filter(([tool]) => !findTool(tool));
  if (missing.length > 0) {
    const pkgs = [...new Set(missing.map(([, pkg]) => pkg))].join(' ');
    return `missing ${missing.map(([t]) => t).join(', ')}: apt-get install -y --no-install-recommends ${pkgs}`;
  }
  if (!fs.existsSync('/usr/bin/node')) return 'missing /usr/bin/node (bind-mounted into the container)';
  return undefined;
}

/**
 * Skip only when not root / not Linux (or tools missing) on a developer
 * machine; under CI=true any missing prerequisite is a failure instead.
 */
export function requirementsGate(): Gate {
  const reason = missingPrerequisite();
  if (!reason) return {};
  if (process.env.CI === 'true') {
    process.stdout.write(`systemd tests: prerequisite missing under CI=true, failing: ${reason}\n`);
    return { failure: `prerequisite missing (CI=true makes this a failure): ${reason}` };
  }
  process.stdout.write(`systemd tests skipped: ${reason}\n`);
  return { skip: reason };
}
