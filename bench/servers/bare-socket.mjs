// Baseline of the footprint scenario: the least a Node server can hold per connection. It
// accepts sockets, turns Nagle off, reads and discards, and nothing else. Plain JavaScript run by
// plain `node` (no TypeScript loader), so its idle memory is Node's own.
// Env PORT (default 0) and HOST; prints `READY <port>`. SIGUSR2 prints `MEMORY …` (after a full
// GC when run with --expose-gc); SIGTERM exits.
import { createServer } from 'node:net';

const sockets = new Set();
const server = createServer((socket) => {
  socket.setNoDelay(true);
  sockets.add(socket);
  socket.on('data', () => {});
  socket.on('error', () => socket.destroy());
  socket.on('close', () => sockets.delete(socket));
});

let reports = 0;
process.on('SIGUSR2', () => {
  globalThis.gc?.();
  const m = process.memoryUsage();
  process.stdout.write(`MEMORY ${++reports} rss=${m.rss} heapUsed=${m.heapUsed} heapTotal=${m.heapTotal} external=${m.external} arrayBuffers=${m.arrayBuffers}\n`);
});
process.on('SIGTERM', () => {
  for (const socket of sockets) socket.destroy();
  server.close(() => process.exit(0));
});

server.listen(Number(process.env.PORT ?? 0), process.env.HOST ?? '127.0.0.1', () => {
  process.stdout.write(`READY ${server.address().port}\n`);
});
