// `node --import ./preload-all.mjs dist/cli.js check ...`: every runtime dependency
// loaded up front, as if the CLI imported them all eagerly at the top.
await Promise.all(['zod', 'yaml', 'pino', 'undici', 'execa', 'ps-list', 'node-cron'].map((m) => import(m)));
