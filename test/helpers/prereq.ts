// Tests that need root (namespaces, signalling) skip with a reason outside CI; in CI
// (CI=true) a missing prerequisite is a failure, never a silent skip.
export function requireRoot(): string | false {
  const missing = process.platform !== 'linux' ? 'needs Linux' : process.getuid?.() !== 0 ? 'needs root (pid namespaces)' : null;
  if (!missing) return false;
  if (process.env.CI === 'true') throw new Error(`CI=true and this test ${missing}`);
  process.stdout.write(`# skipped: ${missing}\n`);
  return missing;
}
