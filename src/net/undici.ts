// undici's HTTP client alone: its Agent and request API, loaded from undici's own files
// on first use. undici's index.js also loads fetch, WebSocket, EventSource, the cache
// and cookie APIs, the mock and proxy agents and http2 at start: about 5 MB of the
// daemon's memory and half of undici's start-up in a `check`, none of it used here.
// The same code for what is used; `request` wrapped as index.js wraps it (7.x), and the
// request API put on Dispatcher.prototype as index.js puts it (the Agent's
// `dispatcher.request()`). test/net/undici.test.ts holds this to the package's own exports.
import { createRequire } from 'node:module';
import type * as Undici from 'undici';

export type UndiciClient = Pick<typeof Undici, 'Agent' | 'Dispatcher' | 'errors' | 'request'>;

// The single executable's bundle makes this the bundle's own require (packaging/sea.ts),
// so esbuild bundles exactly these files.
const require = createRequire(import.meta.url);

let client: UndiciClient | undefined;

export function undiciClient(): UndiciClient {
  return (client ??= load());
}

function load(): UndiciClient {
  const Dispatcher = require('undici/lib/dispatcher/dispatcher');
  const Agent = require('undici/lib/dispatcher/agent');
  const errors = require('undici/lib/core/errors');
  const util = require('undici/lib/core/util');
  const api = require('undici/lib/api');
  const { getGlobalDispatcher } = require('undici/lib/global');
  Object.assign(Dispatcher.prototype, api);
  const { InvalidArgumentError } = errors;
  // As undici/index.js makeDispatcher (7.x).
  const makeDispatcher =
    (fn: (...a: unknown[]) => unknown) =>
    (url: any, opts?: any, handler?: unknown): unknown => {
      if (typeof opts === 'function') {
        handler = opts;
        opts = null;
      }
      if (!url || (typeof url !== 'string' && typeof url !== 'object' && !(url instanceof URL))) throw new InvalidArgumentError('invalid url');
      if (opts != null && typeof opts !== 'object') throw new InvalidArgumentError('invalid opts');
      if (opts && opts.path != null) {
        if (typeof opts.path !== 'string') throw new InvalidArgumentError('invalid opts.path');
        const path = opts.path.startsWith('/') ? opts.path : `/${opts.path}`;
        url = new URL(util.parseOrigin(url).origin + path);
      } else {
        if (!opts) opts = typeof url === 'object' ? url : {};
        url = util.parseURL(url);
      }
      const { agent, dispatcher = getGlobalDispatcher() } = opts;
      if (agent) throw new InvalidArgumentError('unsupported opts.agent. Did you mean opts.client?');
      return fn.call(dispatcher, { ...opts, origin: url.origin, path: url.search ? url.pathname + url.search : url.pathname, method: opts.method || (opts.body ? 'PUT' : 'GET') }, handler);
    };
  return { Agent, Dispatcher, errors, request: makeDispatcher(api.request) as typeof Undici.request };
}
