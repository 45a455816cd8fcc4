// A stand-in for tomcat's or nginx's HTTP side: answers every GET with 200 "ok".
// Started through a hard link of the node binary named `java` or `nginx`, so its
// executable basename is what the process probe looks for.
// Usage: <exe> standin-server.mjs --port N --pidfile FILE [anything else: ignored, it
// only makes the command line look like the real server's].
import { createServer } from 'node:http';
import { writeFileSync } from 'node:fs';

const arg = (name) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const port = Number(arg('--port'));
const pidfile = arg('--pidfile');
const server = createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end('ok\n');
});
server.listen(port, '127.0.0.1', () => {
  if (pidfile) writeFileSync(pidfile, `${process.pid}\n`);
});
process.on('SIGTERM', () => process.exit(0));
