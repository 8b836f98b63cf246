import { createServer, type AddressInfo, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { measureBurst } from './burst.ts';

const sockets = new Set<Socket>();
let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  for (const socket of sockets) socket.destroy();
  sockets.clear();
  await close?.();
});

describe('measureBurst', () => {
  it('counts the connections greeted with hello and those connected but never greeted', async () => {
    let accepted = 0;
    // Greets the first three connections only, like a server whose accept queue overflowed.
    const server = createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => undefined);
      if (++accepted <= 3) socket.write('{"type":"hello","protocol":"chatlab/1"}\n');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    close = () => new Promise((resolve) => server.close(() => resolve()));
    const result = await measureBurst({ host: '127.0.0.1', port: (server.address() as AddressInfo).port, connections: 5, waitMs: 500 });
    expect(result).toMatchObject({ connections: 5, hellos: 3, silent: 2, unconnected: 0, failed: {}, allHellosMs: null });
    expect(result.helloMs.max).toBeGreaterThanOrEqual(result.helloMs.p50);
  });
});
