// One timer for a whole request (connect, headers, body), whatever undici is doing when
// it fires: it aborts the request and rejects, so racing the request against `expired`
// answers at the deadline. Cleared as soon as the request is done (AbortSignal.timeout
// would keep every request's timer alive until it fires).
export interface Deadline {
  expired: Promise<never>;
  clear(): void;
}

export function deadline(ms: number, controller: AbortController): Deadline {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new Error('timeout'));
    }, ms);
  });
  expired.catch(() => undefined); // also when no race is waiting on it at that moment
  return { expired, clear: () => clearTimeout(timer) };
}
