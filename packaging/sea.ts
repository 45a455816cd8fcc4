// One self-contained executable of ha-watchdog: src/cli.ts bundled by esbuild into one
// CommonJS file (what a Node single executable application runs), made into a blob by
// this machine's own node (`--experimental-sea-config`, with V8's code cache) and
// injected with postject into a copy of that same node binary (process.execPath).
// Nothing is downloaded: esbuild and postject come from node_modules.
//
//   node --import tsx packaging/sea.ts [OUT]      default OUT: pkg/build/ha-watchdog
//
// The bundle must behave as dist/cli.js does (test/packaging/sea.test.ts runs both):
// - src/cli.ts, src/log.ts and src/net/undici.ts load package.json, pino and undici's
//   client files through `createRequire(import.meta.url)`. In a CJS bundle
//   import.meta.url is empty, and a SEA's require() loads built-in modules only, so
//   that expression is rewritten to the bundle's own `require` at load time: esbuild
//   then bundles what it loads (package.json's version, pino, undici's Agent and
//   request API without its index.js) like any other import.
// - every dynamic import() names a literal module, so esbuild bundles those too; the
//   check below refuses a bundle that still requires anything but a node built-in.
import { execFileSync } from 'node:child_process';
import { builtinModules } from 'node:module';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** postject's sentinel, fixed by node (src/node_sea.cc). */
const FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

export interface SeaResult {
  executable: string;
  bundle: string;
  bundleBytes: number;
  executableBytes: number;
  nodeVersion: string;
  /** npm packages bundled into the executable: their directories, relative to ROOT. */
  packages: string[];
  ms: { bundle: number; blob: number; inject: number };
}

const createRequireToRequire: Plugin = {
  name: 'create-require',
  setup(b) {
    b.onLoad({ filter: /[\\/]src[\\/].*\.ts$/ }, (args) => {
      const text = readFileSync(args.path, 'utf8');
      if (!text.includes('import.meta')) return undefined;
      const out = text
        // src/log.ts: `const require = createRequire(import.meta.url);` -> the module's own require
        .replace(/^\s*const require = createRequire\(import\.meta\.url\);?\s*$/m, '')
        // src/cli.ts: `createRequire(import.meta.url)('../package.json')` -> require('../package.json')
        .replace(/createRequire\(import\.meta\.url\)/g, 'require');
      if (out.includes('import.meta')) {
        return { errors: [{ text: `${args.path}: import.meta used other than in createRequire(import.meta.url); the SEA bundle cannot resolve it` }] };
      }
      return { contents: out, loader: 'ts' };
    });
  },
};

/**
 * undici's client.js loads its HTTP/2 client at start, and that loads node:http2, node:tls
 * and fs/promises: ~15 ms of every `check`, and memory in the daemon, for a protocol the
 * probes never negotiate (no allowH2). The require moves into the one place that calls
 * it, so esbuild still bundles client-h2.js and an HTTP/2 connection behaves as before.
 */
export const lazyHttp2: Plugin = {
  name: 'lazy-http2',
  setup(b) {
    b.onLoad({ filter: /[\\/]undici[\\/]lib[\\/]dispatcher[\\/]client\.js$/ }, (args) => {
      const text = readFileSync(args.path, 'utf8');
      const line = "const connectH2 = require('./client-h2.js')";
      if (!text.includes(line)) return { errors: [{ text: `${args.path}: no "${line}" (undici changed): update packaging/sea.ts lazyHttp2` }] };
      return { contents: text.replace(line, "const connectH2 = (client, socket) => require('./client-h2.js')(client, socket)"), loader: 'js' };
    });
  },
};

/**
 * The bundle in ASCII. esbuild escapes every non-ASCII character of the code itself, but
 * keeps comments as they are, and a few in node_modules have an em dash or an arrow. One
 * such character makes V8 hold the whole main script (which a SEA keeps for as long as it
 * runs: lazy functions compile from it) as UTF-16, two bytes a character: 3 MB more of
 * the daemon's memory. A \uXXXX escape means the same character in a string, a template,
 * a regex or an identifier, and is just text in a comment.
 */
export function asciiOnly(code: string): string {
  return code.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** esbuild: src/cli.ts -> one CJS file, every dependency inside. */
export async function bundle(outFile: string): Promise<{ packages: string[] }> {
  const r = await build({
    entryPoints: [join(ROOT, 'src/cli.ts')],
    outfile: outFile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    minifySyntax: true,
    // HWT_SEA_MINIFY=1: whitespace and identifiers minified too (names kept): a 1.8 MB
    // bundle instead of 3.2 MB, measured 5-10 % less CPU per start; off by default so
    // that stack traces in an "internal error" stay readable.
    minifyWhitespace: process.env.HWT_SEA_MINIFY === '1',
    minifyIdentifiers: process.env.HWT_SEA_MINIFY === '1',
    keepNames: process.env.HWT_SEA_MINIFY === '1',
    legalComments: 'none',
    logLevel: 'silent',
    plugins: [createRequireToRequire, lazyHttp2],
    // import.meta is empty in a CJS bundle, and esbuild says nothing about it in
    // node_modules: ps-list computes its __dirname from import.meta.url at load time
    // (for its Windows helper binary) and would throw, silently failing every process
    // probe. Here it is the executable's own file URL.
    define: { 'import.meta.url': '__haWatchdogImportMetaUrl' },
    banner: { js: 'var __haWatchdogImportMetaUrl = require("node:url").pathToFileURL(__filename).href;' },
    metafile: true,
    // The shebang of src/cli.ts is dropped by esbuild for CJS output: harmless.
  });
  const warnings = r.warnings;
  if (warnings.length) {
    throw new Error(`esbuild warnings (a bundle that may not behave like dist/cli.js):\n${warnings.map((w) => `${w.location?.file}:${w.location?.line}: ${w.text}`).join('\n')}`);
  }
  const code = asciiOnly(readFileSync(outFile, 'utf8'));
  writeFileSync(outFile, code);
  if (/\bimport_meta\d*\b/.test(code)) throw new Error('the bundle still uses import.meta (empty in CommonJS): see the define above');
  // node:sqlite: undici's SQLite cache store requires it only when that store is used
  // (never here); it is a built-in of newer node versions. node:sea (src/os/self.ts)
  // exists only with its prefix, so builtinModules does not list it.
  const builtins = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`), 'node:sqlite', 'node:sea']);
  const external = [...code.matchAll(/\brequire\(["']([^"']+)["']\)/g)].map((m) => m[1]!).filter((m) => !builtins.has(m));
  if (external.length) throw new Error(`the bundle still requires non-built-in modules at run time: ${[...new Set(external)].join(', ')}`);
  // Which npm packages went into the bundle (for debian/copyright): the directory of
  // each, relative to ROOT, e.g. node_modules/pino or node_modules/a/node_modules/b.
  const packages = new Set<string>();
  for (const input of Object.keys(r.metafile!.inputs)) {
    const m = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input);
    if (m) packages.add(m[1]!);
  }
  return { packages: [...packages].sort() };
}

/** The whole executable. `node` is the binary copied (default: this process's). */
export async function buildSea(out = join(ROOT, 'pkg/build/ha-watchdog'), node = process.execPath): Promise<SeaResult> {
  const dir = dirname(out);
  mkdirSync(dir, { recursive: true });
  const work = join(dir, 'sea-work');
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work);
  const t0 = Date.now();
  const main = join(work, 'ha-watchdog.cjs');
  const { packages } = await bundle(main);
  const t1 = Date.now();
  const blob = join(work, 'sea.blob');
  const snapshot = process.env.HWT_SEA_SNAPSHOT === '1';
  const seaConfig = join(work, 'sea-config.json');
  writeFileSync(
    seaConfig,
    JSON.stringify({
      main,
      output: blob,
      // Without it every run prints an ExperimentalWarning on stderr.
      disableExperimentalSEAWarning: true,
      // V8's compiled code for the bundle, made at build time: start-up skips parsing
      // and compiling most of the ~2 MB of JavaScript.
      useCodeCache: !snapshot,
      // HWT_SEA_SNAPSHOT=1: a V8 startup snapshot instead (src/cli.ts preloads the check's modules into it).
      useSnapshot: snapshot,
    }),
  );
  execFileSync(node, ['--experimental-sea-config', seaConfig], { cwd: work, stdio: ['ignore', 'pipe', 'pipe'] });
  const t2 = Date.now();
  const tmp = `${out}.tmp`;
  rmSync(tmp, { force: true });
  copyFileSync(node, tmp);
  chmodSync(tmp, 0o755);
  // Debug symbols are most of a distribution's node binary (99 MB -> ~90 MB for
  // Debian's, NodeSource's build carries debug_info); the dynamic symbol table that
  // native addons link against stays. Done before the injection: strip would drop
  // the note that postject adds.
  try {
    execFileSync('strip', ['--strip-debug', '--strip-unneeded', tmp], { stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    throw new Error(`strip failed (binutils): ${(e as Error).message}`);
  }
  const postject = join(ROOT, 'node_modules/postject/dist/cli.js');
  execFileSync(process.execPath, [postject, tmp, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', FUSE], { stdio: ['ignore', 'pipe', 'pipe'] });
  const t3 = Date.now();
  const nodeVersion = execFileSync(node, ['--version'], { encoding: 'utf8' }).trim();
  copyFileSync(main, join(dir, 'ha-watchdog.cjs'));
  writeFileSync(join(dir, 'bundled-packages.json'), `${JSON.stringify(packages, null, 1)}\n`);
  execFileSync('mv', ['-f', tmp, out]);
  rmSync(work, { recursive: true, force: true });
  return {
    executable: out,
    bundle: join(dir, 'ha-watchdog.cjs'),
    bundleBytes: statSync(join(dir, 'ha-watchdog.cjs')).size,
    executableBytes: statSync(out).size,
    nodeVersion,
    packages,
    ms: { bundle: t1 - t0, blob: t2 - t1, inject: t3 - t2 },
  };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const r = await buildSea(process.argv[2] ? resolve(process.argv[2]) : undefined);
  process.stdout.write(`${r.executable}: ${(r.executableBytes / 1e6).toFixed(1)} MB (node ${r.nodeVersion}; bundle ${(r.bundleBytes / 1e3).toFixed(0)} kB; bundle ${r.ms.bundle} ms, blob ${r.ms.blob} ms, inject ${r.ms.inject} ms)\n`);
}
