/**
 * Baseline (a): the smallest Node relay that can carry the benchmark — our ceiling.
 * Every complete line a connection sends is copied, as bytes, to every other connection.
 * No parsing, no accounts, no queue limits (it buffers without bound if a reader is slow).
 *
 * It does what any Node server must do to be fast, and nothing else: a connection's complete
 * lines are forwarded as one slice of the read buffer, and writes to each recipient are corked
 * until the end of the event-loop turn, so many reads become one writev per socket.
 *
 * Run as its own process: `node --import tsx bench/servers/raw-relay.ts`; env PORT (default 0)
 * and HOST; prints `READY <port>` on stdout. SIGTERM closes everything and exits.
 */
import { createServer, type Socket } from 'node:net';

const NEWLINE = 0x0a;
const sockets = new Set<Socket>();
const corked: Socket[] = [];
let flushScheduled = false;

function flush(): void {
  flushScheduled = false;
  for (const socket of corked) socket.uncork();
  corked.length = 0;
}

function relay(from: Socket, bytes: Buffer): void {
  for (const to of sockets) {
    if (to === from || to.destroyed) continue;
    if (to.writableCorked === 0) {
      to.cork();
      corked.push(to);
    }
    to.write(bytes);
  }
  if (!flushScheduled) {
    flushScheduled = true;
    setImmediate(flush);
  }
}

const server = createServer((socket) => {
  socket.setNoDelay(true);
  sockets.add(socket);
  let partial: Buffer | null = null;
  socket.on('data', (chunk: Buffer) => {
    const lastNewline = chunk.lastIndexOf(NEWLINE);
    if (lastNewline === -1) {
      partial = partial ? Buffer.concat([partial, chunk]) : chunk;
      return;
    }
    const complete = chunk.subarray(0, lastNewline + 1);
    relay(socket, partial ? Buffer.concat([partial, complete]) : complete);
    partial = lastNewline + 1 < chunk.length ? chunk.subarray(lastNewline + 1) : null;
  });
  socket.on('error', () => socket.destroy());
  socket.on('close', () => sockets.delete(socket));
});

server.listen(Number(process.env.PORT ?? 0), process.env.HOST ?? '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`READY ${typeof address === 'object' && address ? address.port : 0}\n`);
});

process.on('SIGTERM', () => {
  for (const socket of sockets) socket.destroy();
  server.close(() => process.exit(0));
});
