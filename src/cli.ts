#!/usr/bin/env node
// ha-watchdog's command line. Each command loads only what it needs, so a one-shot
// `check` from cron starts fast.
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { setFlagsFromString, startupSnapshot } from 'node:v8';

const USAGE = `Usage: ha-watchdog <command> [options]

Commands:
  run        the daemon: poll every interval, restart what died or hung,
             stop keepalived when a critical service cannot be brought back
  check      one pass for cron: probe, decide, act, report, exit
               0 OK, 1 degraded but handled, 2 critical, 3 unknown
  validate   check the config; exit 0 if valid, 1 with the errors
  status     ask the running daemon: services, probes, restarts, keepalived,
             the VIP, maintenance, last actions; exit 3 if no daemon runs
  pause      maintenance: keep probing and reporting, take no action
             (no restart, no failover) until resume, or --for runs out
  resume     end maintenance; the daemon acts again from its next poll
  retry SERVICE
             a restart attempt of SERVICE now (after a repair), backoff and
             restart budget waived once
  switchover planned work: hand the VIP to the peer (only if its agent says
             it is healthy), wait until it answers there, hold it there
  takeback   end a switchover: take the VIP back once this host is healthy
  doctor     check this host's keepalived.conf and agent config, and the pair
             (through the peer's agent): 0 fine, 1 warnings, 2 errors, 3 unknown

Options:
  -c, --config FILE   config file (default: $HA_WATCHDOG_CONFIG or /etc/ha-watchdog/watchdog.yaml)
      --dry-run       decide and log what would be done, run nothing      (run, check)
      --json          print one machine-readable report            (check, status, doctor)
  -v, --verbose       print the report and the log even when all is well   (check)
      --print         print the effective config, defaults filled in       (validate)
      --log-level L   debug, info, warn or error (default: info)           (run, check)
      --for DURATION  end the pause by itself after it, e.g. 30m, 2h       (pause)
      --reason TEXT   why, shown by status and logged          (pause, switchover)
      --wait DURATION how long to wait for the VIP, default 30s (switchover, takeback)
  -h, --help          this help
  -V, --version       the version
`;

const version = (createRequire(import.meta.url)('../package.json') as { version: string }).version;

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        config: { type: 'string', short: 'c' },
        'dry-run': { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        verbose: { type: 'boolean', short: 'v', default: false },
        print: { type: 'boolean', default: false },
        'log-level': { type: 'string', default: 'info' },
        for: { type: 'string' },
        reason: { type: 'string' },
        wait: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
        version: { type: 'boolean', short: 'V', default: false },
      },
    });
  } catch (e) {
    process.stderr.write(`ha-watchdog: ${(e as Error).message}\n\n${USAGE}`);
    return 64; // EX_USAGE
  }
  const { values: o, positionals } = parsed;
  if (o.version) return out(`${version}\n`, 0);
  if (o.help) return out(USAGE, 0);
  const [command, ...rest] = positionals;
  if (!command) return err(`ha-watchdog: no command given\n\n${USAGE}`, 64);
  // The daemon's helpers (src/os/self.ts): not for people, so not in the usage.
  const internal = command === '__state' ? rest.shift() : undefined;
  if (command === '__state' && !internal) return err('ha-watchdog: __state needs the state directory\n', 64);
  const service = command === 'retry' ? rest.shift() : undefined;
  if (command === 'retry' && !service) return err(`ha-watchdog: retry needs the service, e.g. ha-watchdog retry tomcat\n\n${USAGE}`, 64);
  const extra = rest;
  if (extra.length) return err(`ha-watchdog: unexpected argument "${extra[0]}"\n\n${USAGE}`, 64);
  if (!['debug', 'info', 'warn', 'error'].includes(o['log-level'])) return err(`ha-watchdog: --log-level must be debug, info, warn or error, got "${o['log-level']}"\n`, 64);
  if (o.for !== undefined && command !== 'pause') return err(`ha-watchdog: --for goes with pause only\n\n${USAGE}`, 64);
  if (o.reason !== undefined && command !== 'pause' && command !== 'switchover') return err(`ha-watchdog: --reason goes with pause and switchover only\n\n${USAGE}`, 64);
  if (o.wait !== undefined && command !== 'switchover' && command !== 'takeback') return err(`ha-watchdog: --wait goes with switchover and takeback only\n\n${USAGE}`, 64);
  // zod compiles a parser for each object schema with new Function at its first use:
  // worth it for many parses, not for the few of a command (the config, the state).
  // The daemon never loads zod: its helpers read the config and the state.
  if (command !== 'run') (await import('zod')).config({ jitless: true });
  const { DEFAULT_CONFIG_PATH } = await import('./config/path.js');
  const configPath = o.config ?? process.env.HA_WATCHDOG_CONFIG ?? DEFAULT_CONFIG_PATH;

  switch (command) {
    case 'validate':
      return validate(configPath, o.print);
    case 'run': {
      // The daemon lives for months: favour memory over peak speed (measured: about
      // 76 MB RSS instead of 85-93 MB). Set before the heavy modules load: it applies
      // to code compiled after it.
      setFlagsFromString('--optimize-for-size');
      // No TurboFan: a poll is mostly waiting for I/O, and the interpreter and the
      // baseline compiler run it as fast (measured: 0.97 against 1.04 ms of CPU per
      // poll back to back), without the optimised code and the compiler's memory that
      // grow over hours (the 20,000-poll soak: 3.5 to 8 MB less RSS).
      setFlagsFromString('--no-opt');
      const { createLogger } = await import('./log.js');
      const { runDaemon } = await import('./agent/daemon.js');
      const { selfCommand } = await import('./os/self.js');
      return runDaemon({ configPath, dryRun: o['dry-run'], log: createLogger({ level: o['log-level'] }), version, self: selfCommand() });
    }
    case 'check':
      return check(configPath, { dryRun: o['dry-run'], json: o.json, verbose: o.verbose, level: o['log-level'] });
    case 'status':
    case 'pause':
    case 'resume':
    case 'retry':
    case 'switchover':
    case 'takeback': {
      const { control } = await import('./control/commands.js');
      return control(command, configPath, { json: o.json, for: o.for, reason: o.reason, service, wait: o.wait });
    }
    case '__config': {
      const { configReply } = await import('./config/load-reply.js');
      return out(JSON.stringify(configReply(configPath)), 0);
    }
    case '__state': {
      const { loadState } = await import('./agent/state.js');
      return out(JSON.stringify(loadState(internal!)), 0);
    }
    case 'doctor': {
      const { doctor, formatDoctor } = await import('./doctor/run.js');
      const r = await doctor(configPath);
      return out(o.json ? `${JSON.stringify(r)}\n` : formatDoctor(r), r.exitCode);
    }
    default:
      return err(`ha-watchdog: unknown command "${command}"\n\n${USAGE}`, 64);
  }
}

async function validate(configPath: string, print: boolean): Promise<number> {
  const { loadConfig } = await import('./config/load.js');
  try {
    const config = loadConfig(configPath);
    if (print) {
      const { stringify } = await import('yaml');
      const { effectiveConfig } = await import('./config/print.js');
      return out(stringify(effectiveConfig(config)), 0);
    }
    const { formatProblem } = await import('./config/errors.js');
    for (const w of config.warnings ?? []) err(`warning: ${formatProblem(w)}\n`, 0);
    return out(`${configPath}: valid (${Object.keys(config.services).length} services${config.warnings?.length ? `, ${config.warnings.length} warning(s)` : ''})\n`, 0);
  } catch (e) {
    return err(`${(e as Error).message}\n`, 1);
  }
}

async function check(configPath: string, o: { dryRun: boolean; json: boolean; verbose: boolean; level: string }): Promise<number> {
  const { createLogger } = await import('./log.js');
  const { runCheck, formatReport } = await import('./agent/check.js');
  // The log is kept, and shown only when something needs a human (cron mails any output).
  const lines: string[] = [];
  const log = createLogger({ level: o.level, write: o.verbose && !o.json ? undefined : (l) => void lines.push(l) });
  let report;
  try {
    report = await runCheck({ configPath, dryRun: o.dryRun, log });
  } catch (e) {
    report = { error: `internal error: ${(e as Error).stack ?? e}`, exitCode: 3 };
  }
  if ('error' in report) {
    if (o.json) out(`${JSON.stringify({ status: 'UNKNOWN', exitCode: report.exitCode, error: report.error })}\n`, 0);
    else err(`HA-WATCHDOG UNKNOWN - ${report.error}\n`, 0);
    return report.exitCode;
  }
  if (o.json) return out(`${JSON.stringify({ ...report, log: lines.map((l) => JSON.parse(l)) })}\n`, report.exitCode);
  if (report.exitCode !== 0 || o.verbose) {
    out(`${formatReport(report)}\n`, 0);
    if (!o.verbose && lines.length) out(lines.join(''), 0);
  }
  return report.exitCode;
}

function out(text: string, code: number): number {
  process.stdout.write(text);
  return code;
}
function err(text: string, code: number): number {
  process.stderr.write(text);
  return code;
}

function start(): void {
  // undici parses HTTP with a WebAssembly module. V8 would optimise it in the background
  // and make every short `check` wait ~50-80 ms at exit for that; the baseline compiler
  // is plenty for one request per probe. Set before undici compiles it.
  setFlagsFromString('--liftoff-only');
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
      // Timers of libraries (cron, sockets) must not keep a finished command alive.
      if (process.argv[2] !== 'run') setImmediate(() => process.exit(code));
      else process.exit(code);
    },
    (e) => {
      process.stderr.write(`ha-watchdog: internal error: ${(e as Error).stack ?? e}\n`);
      process.exit(3);
    },
  );
}

/**
 * The modules a `check` needs, loaded (not run) while the single executable's V8
 * startup snapshot is built (packaging/sea.ts): they start already initialised. Only
 * modules whose loading reads nothing of the host or the process belong here.
 */
async function preload(): Promise<void> {
  const { loadPino } = await import('./log.js');
  loadPino();
  // Not undici: Node 20 cannot put node:http's parser binding (which undici loads) into a snapshot.
  await Promise.all([import('./config/load.js'), import('./config/errors.js'), import('./agent/check.js'), import('ps-list')]);
}

// Built into a snapshot: load, then run start() in each process made from it.
if (startupSnapshot?.isBuildingSnapshot()) void preload().then(() => startupSnapshot.setDeserializeMainFunction(start));
else start();
