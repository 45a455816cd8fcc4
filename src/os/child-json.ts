// Runs a helper process and takes the one JSON value it prints on stdout. Never
// throws: a helper that cannot start, fails, hangs past its deadline (killed), prints
// too much or prints something that is not JSON is a reason, naming the helper, its
// exit and the end of its stderr.
import { spawn } from 'node:child_process';

export type ChildJson = { ok: true; value: unknown } | { ok: false; reason: string };

export interface ChildJsonOptions {
  /** Killed (SIGKILL) past this. */
  timeoutMs: number;
  /** stdout beyond this is refused (the helper is killed). */
  maxBytes: number;
  env?: NodeJS.ProcessEnv;
  /** In the reasons: what the helper is, e.g. "the config reader". */
  what: string;
}

const STDERR_TAIL = 2000;

export function childJson(file: string, args: string[], o: ChildJsonOptions): Promise<ChildJson> {
  return new Promise((resolve) => {
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], env: o.env ?? process.env });
    } catch (e) {
      resolve({ ok: false, reason: `${o.what} could not start: ${(e as Error).message}` });
      return;
    }
    const out: Buffer[] = [];
    let outBytes = 0;
    let err = '';
    let why: string | undefined;
    const kill = (reason: string) => {
      why ??= reason;
      child.kill('SIGKILL');
    };
    const timer = setTimeout(() => kill(`gave no answer within ${o.timeoutMs} ms (killed)`), o.timeoutMs);
    child.stdout!.on('data', (d: Buffer) => {
      outBytes += d.length;
      if (outBytes > o.maxBytes) kill(`printed more than ${o.maxBytes} bytes (killed)`);
      else out.push(d);
    });
    child.stderr!.on('data', (d: Buffer) => {
      err = (err + d.toString()).slice(-STDERR_TAIL);
    });
    child.once('error', (e) => {
      clearTimeout(timer);
      why ??= `could not start: ${e.message}`;
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      const tail = err.trim() ? `: ${err.trim()}` : '';
      const exit = code !== null ? `exit code ${code}` : `signal ${signal}`;
      if (why) return resolve({ ok: false, reason: `${o.what} (pid ${child.pid ?? '-'}) ${why}${tail}` });
      if (code !== 0) return resolve({ ok: false, reason: `${o.what} (pid ${child.pid}) failed: ${exit}${tail}` });
      try {
        resolve({ ok: true, value: JSON.parse(Buffer.concat(out).toString('utf8')) });
      } catch {
        resolve({ ok: false, reason: `${o.what} (pid ${child.pid}) printed no JSON answer (${outBytes} bytes)${tail}` });
      }
    });
  });
}
