import { createServer, connect, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { FlushScheduler, Outbox } from './outbox.ts';
import { OutputBudget } from './output-budget.ts';
import { until } from '../../test-support/client-events.ts';

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

  it('trips the bound exactly at maxBytes, also when its cached view of the socket is out of date', async () => {
    const { local, remote, server } = await socketPair();
    cleanups.push(() => (local.destroy(), remote.destroy(), server.close()));
    const received: Buffer[] = [];
    remote.on('data', (chunk: Buffer) => received.push(chunk));
    let overflows = 0;
    const maxBytes = 4096;
    const outbox = new Outbox(local, maxBytes, new FlushScheduler(), () => overflows++);
    // A corked socket accepts the write into its own buffer (write() returns true, nothing waits for
    // 'drain'); uncorking sends it at once. The outbox's remembered socket size is then stale (1 KiB,
    // the socket holds 0) and must not cost the client any room.
    local.cork();
    outbox.push(Buffer.alloc(1024, 0x62));
    await turn();
    expect(local.writableLength).toBe(1024);
    local.uncork();
    expect(local.writableLength).toBe(0);
    expect(outbox.push(Buffer.alloc(maxBytes, 0x63))).toBe(true); // exactly the bound: accepted
    expect(outbox.pendingBytes).toBe(maxBytes);
    expect(outbox.push(Buffer.alloc(1, 0x64))).toBe(false); // one byte more: overflow
    await new Promise((resolve) => process.nextTick(resolve));
    expect(overflows).toBe(1);
    expect(outbox.push(Buffer.alloc(1, 0x64))).toBe(false);
    await new Promise((resolve) => process.nextTick(resolve));
    expect(overflows).toBe(1); // once
  });

  it('while the socket pushes back, the bound counts the socket buffer exactly', async () => {
    const { local, remote, server } = await socketPair();
    cleanups.push(() => (local.destroy(), remote.destroy(), server.close()));
    remote.pause();
    const maxBytes = 16 * 1024 * 1024;
    const outbox = new Outbox(local, maxBytes, new FlushScheduler(), () => {});
    const chunk = Buffer.alloc(256 * 1024, 0x61);
    while (local.writableLength === 0) {
      outbox.push(chunk);
      await turn();
    }
    const room = maxBytes - outbox.pendingBytes;
    expect(outbox.push(Buffer.alloc(room, 0x62))).toBe(true);
    expect(outbox.pendingBytes).toBe(maxBytes);
    expect(outbox.push(Buffer.alloc(1))).toBe(false);
  });

  it('writes ONE shared buffer to every outbox that queued the same frames in a turn (one concatenation per broadcast batch)', async () => {
    const pairs = await Promise.all([socketPair(), socketPair(), socketPair()]);
    for (const { local, remote, server } of pairs) cleanups.push(() => (local.destroy(), remote.destroy(), server.close()));
    const written: Buffer[][] = pairs.map(() => []);
    pairs.forEach(({ local }, i) => {
      const write = local.write.bind(local) as (chunk: Buffer) => boolean;
      local.write = ((chunk: Buffer) => (written[i]?.push(chunk), write(chunk))) as Socket['write'];
    });
    const scheduler = new FlushScheduler();
    const [a, b, c] = pairs.map(({ local }) => new Outbox(local, 1024 * 1024, scheduler, () => {})) as [Outbox, Outbox, Outbox];
    const first = Buffer.from('{"type":"message","text":"1"}\n');
    const second = Buffer.from('{"type":"message","text":"2"}\n');
    for (const outbox of [a, b, c]) outbox.push(first);
    for (const outbox of [a, b, c]) outbox.push(second);
    c.push(Buffer.from('{"type":"ok"}\n')); // c's queue differs: it gets its own buffer
    const received = pairs.map(({ remote }) => {
      const chunks: Buffer[] = [];
      remote.on('data', (chunk: Buffer) => chunks.push(chunk));
      return chunks;
    });
    await turn();
    expect(written.map((list) => list.length)).toEqual([1, 1, 1]);
    expect(written[1]?.[0]).toBe(written[0]?.[0]); // the very same Buffer object, not an equal copy
    expect(written[2]?.[0]).not.toBe(written[0]?.[0]);
    const both = Buffer.concat([first, second]).toString();
    await until(() => received.every((chunks, i) => Buffer.concat(chunks).length === written[i]?.[0]?.length), 'every byte to arrive', 2000);
    expect(received.map((chunks) => Buffer.concat(chunks).toString())).toEqual([both, both, both + '{"type":"ok"}\n']);
  });

  it('writes frames pushed after a flush in the next turn (it schedules itself again)', async () => {
    const { local, remote, server } = await socketPair();
    cleanups.push(() => (local.destroy(), remote.destroy(), server.close()));
    const writes = countWrites(local);
    const outbox = new Outbox(local, 1024 * 1024, new FlushScheduler(), () => {});
    outbox.push(Buffer.from('a\n'));
    outbox.push(Buffer.from('b\n'));
    await turn();
    outbox.push(Buffer.from('c\n'));
    await turn();
    expect(writes.sizes).toEqual([4, 2]);
  });

  it("counts its bytes in the server's budget: queued, then the socket's while waiting for drain, then none", async () => {
    const { local, remote, server } = await socketPair();
    cleanups.push(() => (local.destroy(), remote.destroy(), server.close()));
    remote.pause();
    const budget = new OutputBudget();
    const outbox = new Outbox(local, 64 * 1024 * 1024, new FlushScheduler(), () => {}, budget);
    outbox.push(Buffer.alloc(1000));
    outbox.push(Buffer.alloc(500));
    expect(budget.queuedBytes).toBe(1500);
    await turn();
    expect(budget.queuedBytes).toBe(0); // the kernel took it
    const chunk = Buffer.alloc(256 * 1024, 0x61);
    while (local.writableLength === 0) {
      outbox.push(chunk);
      await turn();
    }
    expect(outbox.waitingSince).toBeTypeOf('number');
    expect(budget.queuedBytes).toBe(local.writableLength);
    outbox.push(chunk);
    expect(budget.queuedBytes).toBe(outbox.pendingBytes);
    expect(outbox.countedBytes).toBe(outbox.pendingBytes);
    const drained = new Promise((resolve) => local.once('drain', resolve));
    remote.resume();
    await drained;
    // After 'drain' the queued chunk is written; once that write completes too, nothing is counted.
    await until(() => local.writableLength === 0 && budget.queuedBytes === 0, 'the socket to drain', 2000);
    expect(outbox.waitingSince).toBeUndefined();
    outbox.push(chunk);
    outbox.close({ flush: false });
    expect(budget.queuedBytes).toBe(0);
    expect(budget.stats.peakQueuedBytes).toBeGreaterThan(chunk.length);
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

  it('runs the before-output hooks before every write: the turn, the last frames of a close, and with nothing queued', async () => {
    const { local, remote, server } = await socketPair();
    cleanups.push(() => (local.destroy(), remote.destroy(), server.close()));
    const order: string[] = [];
    const write = local.write.bind(local) as (chunk: Buffer) => boolean;
    local.write = ((chunk: Buffer) => (order.push(`write ${chunk.toString().trim()}`), write(chunk))) as Socket['write'];
    const scheduler = new FlushScheduler();
    scheduler.beforeOutput(() => order.push('commit'));
    const outbox = new Outbox(local, 1024 * 1024, scheduler, () => {});
    // Each write comes right after a commit (the turn may commit more than once: it is cheap when idle).
    const commitsBeforeWrites = () => order.filter((step, i) => step.startsWith('write') && order[i - 1] !== 'commit');
    outbox.push(Buffer.from('a\n'));
    await turn();
    expect(order.filter((step) => step.startsWith('write'))).toEqual(['write a']);
    expect(commitsBeforeWrites()).toEqual([]);
    order.length = 0;
    scheduler.wake(); // a turn with records but no output still commits
    await turn();
    expect(order).toEqual(['commit']);
    order.length = 0;
    outbox.push(Buffer.from('b\n'));
    outbox.close({ flush: true, last: Buffer.from('bye\n') }); // no waiting for the turn: written now
    expect(order.filter((step) => step.startsWith('write'))).toEqual(['write b', 'write bye']);
    expect(commitsBeforeWrites()).toEqual([]);
  });
});
