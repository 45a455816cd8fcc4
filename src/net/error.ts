// A network error in one line: undici puts the useful part (ECONNREFUSED, a TLS
// failure) in `cause`, Node's own errors in `code`.
export function describeError(e: unknown): string {
  const err = e as { code?: string; message?: string; cause?: { code?: string; message?: string } };
  const code = err.cause?.code ?? err.code;
  const msg = err.cause?.message ?? err.message ?? String(e);
  return code && !msg.includes(code) ? `${code} ${msg}` : msg;
}
