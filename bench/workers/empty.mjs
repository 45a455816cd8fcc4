// Nothing: `node empty.mjs` is the floor of any node command's start-up time.
