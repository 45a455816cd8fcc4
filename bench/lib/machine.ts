// The facts about the machine and the checkout that go at the top of results.md.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { ROOT } from './paths.js';

const read = (p: string) => {
  try {
    return readFileSync(p, 'utf8');
  } catch {
    return '';
  }
};

function git(args: string[]): string {
  try {
    return execFileSync('git', ['-C', ROOT, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return '';
  }
}

export function machine(): Record<string, string> {
  const model = /model name\s*:\s*(.*)/.exec(read('/proc/cpuinfo'))?.[1]?.trim() ?? cpus()[0]?.model ?? 'unknown';
  const os = /PRETTY_NAME="([^"]*)"/.exec(read('/etc/os-release'))?.[1] ?? 'unknown';
  const commit = git(['rev-parse', '--short', 'HEAD']);
  const dirty = git(['status', '--porcelain', '--', 'src']) ? ' (src/ has uncommitted changes)' : '';
  return {
    CPU: model,
    cores: String(cpus().length),
    memory: `${(totalmem() / 2 ** 30).toFixed(1)} GiB`,
    OS: `${os}, Linux ${release()}`,
    Node: process.version,
    'load average at start': loadavg().map((x) => x.toFixed(2)).join(', '),
    commit: commit ? `${commit}${dirty}` : 'unknown',
  };
}
