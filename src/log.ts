// JSON lines on stdout, one per event. Under systemd (JOURNAL_STREAM set) each line
// starts with its syslog priority, "<4>{...}", which journald strips and stores as
// PRIORITY: `journalctl -p warning` works and MESSAGE stays pure JSON.
import { createRequire } from 'node:module';
import type { Logger as PinoLogger } from 'pino';
import type { EventName } from './catalogue/events.js';

/** Every line names its event from the catalogue (src/catalogue/events.ts); the rest are its fields. */
export interface LogFields {
  event: EventName;
  [field: string]: unknown;
}
type LogFn = (fields: LogFields, msg?: string) => void;

/** pino, narrowed so that a line without a catalogued event name does not compile. */
export interface Logger {
  error: LogFn;
  warn: LogFn;
  info: LogFn;
  debug: LogFn;
  level: string;
}

const PRIORITY: Record<string, number> = { fatal: 2, error: 3, warn: 4, info: 6, debug: 7, trace: 7 };

export interface LogOptions {
  level?: string;
  /** Defaults to stdout (fd 1). */
  write?: (line: string) => void;
  env?: NodeJS.ProcessEnv;
}

const require = createRequire(import.meta.url);

/** pino, loaded with require at call time so commands that never log (validate, --help) skip it. */
export const loadPino = (): typeof import('pino') => require('pino') as typeof import('pino');

export function createLogger(opts: LogOptions = {}): Logger & PinoLogger {
  const pino = loadPino();
  const journal = Boolean((opts.env ?? process.env).JOURNAL_STREAM);
  const sink = opts.write ? null : pino.destination({ fd: 1, sync: true });
  const write = opts.write ?? ((line: string) => sink!.write(line));
  const stream = {
    write(line: string) {
      if (!journal) return write(line);
      const level = /"level":"(\w+)"/.exec(line)?.[1] ?? 'info';
      write(`<${PRIORITY[level] ?? 6}>${line}`);
    },
  };
  return pino.pino(
    {
      level: opts.level ?? 'info',
      base: undefined,
      messageKey: 'msg',
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    stream,
  );
}
