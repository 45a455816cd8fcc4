// Network-namespace plumbing seen from the root namespace: argv prefixes for
// running a command inside a namespace, and address queries with `ip -n`.
// Creating and deleting the namespaces is lab.sh's job (up/down).
import { run, runOk } from './exec.js';

/** argv that runs `argv` inside a lab host: its network, mount, pid and UTS namespaces. */
export function nsenterArgv(initPid: number, hostDir: string, argv: string[]): string[] {
  return ['nsenter', '-t', String(initPid), '-n', '-m', '-p', '-u', `--wd=${hostDir}`, '--', ...argv];
}

/** argv that runs `argv` in a network namespace only (the client C, the bridge). */
export function netnsExecArgv(ns: string, argv: string[]): string[] {
  return ['ip', 'netns', 'exec', ns, ...argv];
}

/** IPv4 addresses (without prefix length) on `dev` in namespace `ns`. */
export async function ipv4Addresses(ns: string, dev = 'eth0'): Promise<string[]> {
  const r = await runOk(['ip', '-n', ns, '-4', '-o', 'addr', 'show', 'dev', dev], { timeoutMs: 5_000 });
  const out: string[] = [];
  for (const line of r.stdout.split('\n')) {
    const m = /\binet ([0-9.]+)\//.exec(line);
    if (m?.[1]) out.push(m[1]);
  }
  return out;
}

/** Names of the network namespaces that exist now. */
export async function listNetns(): Promise<string[]> {
  const r = await run(['ip', 'netns', 'list'], { timeoutMs: 5_000 });
  return r.stdout
    .split('\n')
    .map((l) => l.split(' ')[0] ?? '')
    .filter(Boolean);
}
