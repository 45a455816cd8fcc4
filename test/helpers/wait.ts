// The one waitFor of the tests: lab/wait.ts's (predicate first, then the timeout, then
// { what, intervalMs, detail, onError }), re-exported so that a test needs no lab import.
//
//   await waitFor(() => events(agent.lines, 'restart.ok', 'tomcat').length, 15_000, { what: 'restart.ok', detail: trace });
export { type Truthy, waitFor, type WaitOptions } from '../../lab/wait.js';
