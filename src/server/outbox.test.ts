import { createServer, connect, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { FLUSH_HOLD_FLOOR_MS, FLUSH_HOLD_MAX_MS, FLUSH_HOLD_MIN_WRITES, FlushScheduler, Outbox } from './outbox.ts';
import { OutputBudget } from './output-budget.ts';
import { until } from '../../test-support/client-events.ts';
import { ManualClock } from '../../test-support/manual-clock.ts';

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

/** Records every write() on a socket as text; the first one (only) makes `clock` advance by `slowMs`, as a slow run would. */
function recordWrites(socket: Socket, clock?: ManualClock, slowMs = 0): string[] {
  const written: string[] = [];
  const write = socket.write.bind(socket) as (chunk: Buffer) => boolean;
  socket.write = ((chunk: Buffer) => {
    written.push(chunk.toString());
    if (clock && written.length === 1) clock.advance(slowMs);
    return write(chunk);
  }) as Socket['write'];
  return written;
}

/** Everything `remote` reads, as one growing string. */
function readAll(remote: Socket): { text: string } {
  const received = { text: '' };
  remote.on('data', (chunk: Buffer) => (received.text += chunk.toString()));
  return received;
}

describe('FlushScheduler: holding the next run after a long one', () => {
  // Two sockets stand for a big room: a run that flushed 2 outboxes may hold (unless a test says otherwise).
  async function twoClients(clock: ManualClock, slowMs: number, holdMinWrites: number | 'default' = 2) {
    const pairs = await Promise.all([socketPair(), socketPair()]);
    for (const { local, remote, server } of pairs) cleanups.push(() => (local.destroy(), remote.destroy(), server.close()));
    const scheduler = new FlushScheduler(holdMinWrites === 'default' ? { clock } : { clock, holdMinWrites });
    const order: string[] = [];
    scheduler.beforeOutput(() => order.push('commit'));
    // The first client's first write is slow (by the manual clock): the run that makes it takes slowMs.
    const written = pairs.map(({ local }, i) => recordWrites(local, i === 0 ? clock : undefined, slowMs));
    const outboxes = pairs.map(({ local }) => new Outbox(local, 1024 * 1024, scheduler, () => {}));
    const received = pairs.map(({ remote }) => readAll(remote));
    const pushAll = (text: string) => outboxes.forEach((outbox) => outbox.push(Buffer.from(`${text}\n`)));
    return { pairs, scheduler, order, written, outboxes, received, pushAll };
  }

  it("holds the run after a slow one for as long as it took, then writes several turns' frames as ONE write per socket, in order, after a commit", async () => {
    const clock = new ManualClock();
    const { scheduler, order, written, received, pushAll } = await twoClients(clock, 5);
    pushAll('a');
    await turn();
    expect(written).toEqual([['a\n'], ['a\n']]); // the first run is never held; it took 5 ms
    order.length = 0;
    pushAll('b');
    await turn();
    scheduler.wake(); // a message recorded in the next turn: its commit waits for the run too
    pushAll('c');
    await turn();
    pushAll('d');
    await turn();
    expect(written).toEqual([['a\n'], ['a\n']]); // held: three turns, no write
    expect(order).toEqual([]); // and no commit yet
    clock.advance(4);
    await turn();
    expect(written.map((list) => list.length)).toEqual([1, 1]);
    clock.advance(1); // 5 ms after the slow run ended: the held run
    expect(written).toEqual([
      ['a\n', 'b\nc\nd\n'],
      ['a\n', 'b\nc\nd\n'],
    ]);
    expect(order[0]).toBe('commit');
    await until(() => received.every(({ text }) => text === 'a\nb\nc\nd\n'), 'every frame to arrive', 2000);
    // That run was quick: the next one comes in the next setImmediate again.
    pushAll('e');
    await turn();
    expect(written.map((list) => list.at(-1))).toEqual(['e\n', 'e\n']);
  });

  it('keeps the next setImmediate after a light run (up to the floor), and holds at most FLUSH_HOLD_MAX_MS after a very slow one', async () => {
    const light = new ManualClock();
    const quick = await twoClients(light, FLUSH_HOLD_FLOOR_MS);
    quick.pushAll('a');
    await turn();
    quick.pushAll('b');
    await turn();
    expect(quick.written).toEqual([
      ['a\n', 'b\n'],
      ['a\n', 'b\n'],
    ]);
    expect(quick.scheduler.holding).toBe(false);

    const heavy = new ManualClock();
    const slow = await twoClients(heavy, 10 * FLUSH_HOLD_MAX_MS);
    slow.pushAll('a');
    await turn();
    slow.pushAll('b');
    await turn();
    expect(slow.scheduler.holding).toBe(true);
    heavy.advance(FLUSH_HOLD_MAX_MS - 1);
    expect(slow.written.map((list) => list.length)).toEqual([1, 1]);
    heavy.advance(1);
    expect(slow.written.map((list) => list.length)).toEqual([2, 2]);
  });

  it('does not hold after a slow run over few outboxes (slowed by something else, e.g. a GC pause): only one over FLUSH_HOLD_MIN_WRITES or more holds', async () => {
    const clock = new ManualClock();
    const few = await twoClients(clock, 5, 'default'); // the server's default: 2 outboxes are far below it
    few.pushAll('a');
    await turn(); // a run of 5 ms over 2 outboxes
    few.pushAll('b');
    expect(few.scheduler.holding).toBe(false);
    await turn();
    expect(few.written).toEqual([
      ['a\n', 'b\n'],
      ['a\n', 'b\n'],
    ]);

    const at = await twoClients(new ManualClock(), 5, 2); // the same run, with the minimum at 2: held
    at.pushAll('a');
    await turn();
    at.pushAll('b');
    expect(at.scheduler.holding).toBe(true);
    const over = await twoClients(new ManualClock(), 5, 3); // one outbox short of the minimum: not held
    over.pushAll('a');
    await turn();
    over.pushAll('b');
    expect(over.scheduler.holding).toBe(false);
    expect(FLUSH_HOLD_MIN_WRITES).toBeGreaterThan(2);
  });

  it('does not hold a run woken after the hold has passed (the hold counts from the end of the slow run)', async () => {
    const clock = new ManualClock();
    const { scheduler, written, pushAll } = await twoClients(clock, 5);
    pushAll('a');
    await turn();
    clock.advance(5); // a quiet spell as long as the slow run
    pushAll('b');
    expect(scheduler.holding).toBe(false);
    await turn();
    expect(written.map((list) => list.at(-1))).toEqual(['b\n', 'b\n']);
  });

  it("writes a closing connection's queue and last frame at once during a hold, after a commit, in order", async () => {
    const clock = new ManualClock();
    const { order, written, outboxes, received, pushAll, pairs } = await twoClients(clock, 5);
    pushAll('a');
    await turn();
    pushAll('b');
    await turn();
    order.length = 0;
    const write = pairs[1]?.local.write.bind(pairs[1].local) as (chunk: Buffer) => boolean;
    (pairs[1] as { local: Socket }).local.write = ((chunk: Buffer) => (order.push(`write ${chunk.toString().trim()}`), write(chunk))) as Socket['write'];
    outboxes[1]?.close({ flush: true, last: Buffer.from('bye\n') });
    expect(written[1]).toEqual(['a\n', 'b\n', 'bye\n']);
    expect(order).toEqual(['commit', 'write b', 'commit', 'write bye']);
    clock.advance(5); // the held run writes the other client's frame, and nothing more to the closed one
    expect(written).toEqual([
      ['a\n', 'b\n'],
      ['a\n', 'b\n', 'bye\n'],
    ]);
    await until(() => received[1]?.text === 'a\nb\nbye\n', 'the last frames to arrive', 2000);
  });

  it('cuts the hold short when a queue passes a quarter of its bound: holding must not push a client towards its overflow', async () => {
    const clock = new ManualClock();
    const { local, remote, server } = await socketPair();
    cleanups.push(() => (local.destroy(), remote.destroy(), server.close()));
    const scheduler = new FlushScheduler({ clock, holdMinWrites: 1 });
    const written = recordWrites(local, clock, 5);
    const maxBytes = 4000;
    const outbox = new Outbox(local, maxBytes, scheduler, () => {});
    outbox.push(Buffer.from('a\n'));
    await turn(); // a slow run: the next one is held
    outbox.push(Buffer.alloc(maxBytes / 4, 0x61));
    await turn();
    expect(scheduler.holding).toBe(true); // a quarter exactly: still held
    expect(written).toHaveLength(1);
    outbox.push(Buffer.from('b\n'));
    expect(scheduler.holding).toBe(false);
    await turn();
    expect(written).toHaveLength(2);
    expect(written[1]).toBe(`${'a'.repeat(maxBytes / 4)}b\n`);
    expect(outbox.isOpen).toBe(true);
  });

  it('cuts the hold short when the budget has paused input: holding the output would only keep it paused', async () => {
    const clock = new ManualClock();
    const { local, remote, server } = await socketPair();
    cleanups.push(() => (local.destroy(), remote.destroy(), server.close()));
    const scheduler = new FlushScheduler({ clock, holdMinWrites: 1 });
    const budget = new OutputBudget({ outputHighWaterBytes: 8000, outputLowWaterBytes: 4000, outputStallMs: Infinity }, clock);
    const written = recordWrites(local, clock, 5);
    const outbox = new Outbox(local, 1024 * 1024, scheduler, () => {}, budget);
    outbox.push(Buffer.from('a\n'));
    await turn(); // a slow run: the next one is held
    for (let i = 0; i < 8; i++) outbox.push(Buffer.alloc(1000, 0x62)); // 8,000: at the mark, not past it
    expect(budget.paused).toBe(false);
    expect(scheduler.holding).toBe(true);
    outbox.push(Buffer.from('c\n'));
    expect(budget.paused).toBe(true);
    expect(scheduler.holding).toBe(false);
    await turn();
    expect(written.map((text) => text.length)).toEqual([2, 8002]);
    expect(budget.queuedBytes).toBe(0);
  });
});
