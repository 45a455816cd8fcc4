// What every action returns, built in one place: from a command's process
// (command.ts) or from work done in-process (a track-file write, a signal, an internal
// error), so the loop and the log read one shape.

export interface CommandResult {
  ok: boolean;
  exitCode?: number;
  signal?: string;
  timedOut: boolean;
  /** Why it failed, with the command: "exit code 1", "timed out after 60s", "ENOENT: no such program". */
  reason?: string;
  output: string;
  durationMs: number;
}

export interface ResultFields {
  reason?: string;
  exitCode?: number;
  signal?: string;
  timedOut?: boolean;
  output?: string;
  /** performance.now() when the work started: durationMs is measured from it (absent: 0). */
  since?: number;
}

export function commandResult(ok: boolean, f: ResultFields = {}): CommandResult {
  return {
    ok,
    ...(f.exitCode !== undefined ? { exitCode: f.exitCode } : {}),
    ...(f.signal !== undefined ? { signal: f.signal } : {}),
    timedOut: f.timedOut ?? false,
    ...(f.reason !== undefined ? { reason: f.reason } : {}),
    output: f.output ?? '',
    durationMs: f.since === undefined ? 0 : Math.round(performance.now() - f.since),
  };
}
