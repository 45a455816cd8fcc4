// Preload (`node --import no-pid-watch.mjs dist/cli.js run ...`) for item 2a's baseline:
// the same build, with the daemon's 250 ms pid watch never started. The daemon imports
// the very module instance patched here (same file URL), so only start() changes.
import { dist } from './common.mjs';

const { PidWatch } = await dist('agent/pid-watch.js');
PidWatch.prototype.start = function start() {};
