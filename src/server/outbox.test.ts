import { createServer, connect, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { FlushScheduler, Outbox } from './outbox.ts';

/** A real TCP connection on 127.0.0.1: `local` is the server side we write to, `remote` reads. */
async function socketPair(): Promise<{ local: Socket; remote: Socket; server: Server }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve));
  const remote = connect((server.address() as { port: number }).port, '127.0.0.1');
  return { local: await accepted, remote, server };
}

/** Counts the real write() calls made on a socket. */
function countWrites(socket: Socket): { calls: number; sizes: number[] } {
  const stats = { calls: 0, sizes: [] as number[] };
  const write = socket.write.bind(socket) as (chunk: Buffer) => boolean;
  socket.write = ((chunk: Buffer) => {
    stats.calls++;
    stats.sizes.push(chunk.length);
    return write(chunk);
  }) as Socket['write'];
  return stats;
}

const turn = () => new Promise((resolve) => setImmediate(resolve));
const cleanups: Array<() => void> = [];
afterEach(() => cleanups.splice(0).forEach((cleanup) => cleanup()));

describe('Outbox', () => {
  it('coalesces every frame queued in one turn into ONE write, in order', async () => {
    const { local, remote, server } = await socketPair();
    cleanups.push(() => (local.destroy(), remote.destroy(), server.close()));
    const writes = countWrites(local);
    const outbox = new Outbox(local, 1024 * 1024, new FlushScheduler(), () => {});
    const shared = Buffer.from('{"type":"message"}\n');
    outbox.push(Buffer.from('one\n'));
    outbox.push(shared);
    outbox.push(Buffer.from('three\n'));
    expect(writes.calls).toBe(0); // nothing is written synchronously
    const received: Buffer[] = [];
    remote.on('data', (chunk: Buffer) => received.push(chunk));
    await turn();
    expect(writes.calls).toBe(1);
    expect(writes.sizes).toEqual([4 + shared.length + 6]);
    await new Promise<void>((resolve) => {
      const check = () => (Buffer.concat(received).length === writes.sizes[0] ? resolve() : setImmediate(check));
      check();
    });
    expect(Buffer.concat(received).toString()).toBe('one\n{"type":"message"}\nthree\n');
  });

  it('waits for drain when the socket pushes back, and overflows (once) past the bound', async () => {
    const { local, remote, server } = await socketPair();
    cleanups.push(() => (local.destroy(), remote.destroy(), server.close()));
    remote.pause(); // a reader that never reads
    const writes = countWrites(local);
    let overflows = 0;
    const maxBytes = 16 * 1024 * 1024;
    const outbox = new Outbox(local, maxBytes, new FlushScheduler(), () => overflows++);
    const chunk = Buffer.alloc(256 * 1024, 0x61);
    // Fill until the socket reports back-pressure (the kernel buffers are full).
    while (local.writableLength === 0) {
      outbox.push(chunk);
      await turn();
    }
    const callsWhenBlocked = writes.calls;
    outbox.push(chunk);
    outbox.push(chunk);
    await turn();
    expect(writes.calls).toBe(callsWhenBlocked); // queued, not written, while waiting for 'drain'
    expect(outbox.pendingBytes).toBe(local.writableLength + 2 * chunk.length);
    while (outbox.push(chunk)); // up to the bound
    expect(outbox.pendingBytes).toBeLessThanOrEqual(maxBytes);
    expect(outbox.push(chunk)).toBe(false);
    await new Promise((resolve) => process.nextTick(resolve));
    expect(overflows).toBe(1);
    expect(outbox.isOpen).toBe(false);
  });

  it('drops frames quietly once the socket is gone', async () => {
    const { local, remote, server } = await socketPair();
    cleanups.push(() => (remote.destroy(), server.close()));
    const outbox = new Outbox(local, 1024, new FlushScheduler(), () => {
      throw new Error('no overflow expected');
    });
    local.destroy();
    expect(outbox.push(Buffer.from('late\n'))).toBe(false);
    outbox.flush();
    outbox.close({ flush: true, last: Buffer.from('bye\n') });
  });
});
