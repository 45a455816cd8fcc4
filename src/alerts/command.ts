// Command delivery: the configured argv runs with the alert's JSON on stdin, through the
// same runner as restarts (no shell, own process group, timeout, no NOTIFY_SOCKET).
// Not retried: a script that wants retries does them itself. Never throws.
import type { CommandSpec } from '../config/load.js';
import { runCommand } from '../actions/command.js';
import type { Delivery } from './webhook.js';

/** How much of the command's output goes into a failure's reason. */
const OUTPUT_IN_REASON = 300;

export class AlertCommand {
  readonly destination: string;

  constructor(
    private readonly cfg: CommandSpec,
    private readonly opts: { stateDir: string },
  ) {
    this.destination = `command ${cfg.command[0]}`;
  }

  async run(body: string): Promise<Delivery> {
    const started = performance.now();
    try {
      // Its output goes to stateDir/output/alert.command.log; deliveries are serial, so one file will do.
      const r = await runCommand(this.cfg, { stateDir: this.opts.stateDir, name: 'alert.command', input: `${body}\n` });
      if (r.ok) return { ok: true, attempts: 1, durationMs: r.durationMs };
      const said = r.output.trim() ? `; output: ${r.output.replace(/\s+/g, ' ').trim().slice(0, OUTPUT_IN_REASON)}` : '';
      return { ok: false, attempts: 1, reason: `${r.reason ?? 'failed'}${r.exitCode !== undefined && !r.timedOut ? ', expected 0' : ''}${said}`, durationMs: r.durationMs };
    } catch (e) {
      return { ok: false, attempts: 1, reason: `could not run it: ${(e as Error).message}`, durationMs: Math.round(performance.now() - started) };
    }
  }
}
