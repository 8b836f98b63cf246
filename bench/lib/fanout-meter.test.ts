import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import type { ClientConnection } from './client-connection.ts';
import { FanoutMeter } from './fanout-meter.ts';
import { payloadText } from './payload.ts';

/** A connection whose reads the test performs itself. */
function fakeConnection(): ClientConnection & { socket: EventEmitter } {
  return { handler: () => {}, socket: new EventEmitter() as unknown as Socket } as unknown as ClientConnection & {
    socket: EventEmitter;
  };
}

/** Feeds `bytes` to the connection in reads of `size` bytes, through one reused buffer like onread does. */
function feed(connection: ClientConnection, bytes: Buffer, size: number): void {
  const shared = Buffer.alloc(size);
  for (let at = 0; at < bytes.length; at += size) {
    const n = bytes.copy(shared, 0, at, Math.min(bytes.length, at + size));
    connection.handler(shared, 0, n);
    shared.fill(0x3f); // anything kept without a copy would now be garbage
  }
}

function frames(step: number, sender: number, seqs: number[], sentUs: number): Buffer {
  return Buffer.from(seqs.map((seq) => JSON.stringify({ type: 'message', from: `u${sender}`, text: payloadText(step, sender, seq, sentUs), ts: 0 }) + '\n').join(''));
}

describe('FanoutMeter', () => {
  it('counts every delivery whatever the read boundaries, and sees the step drained', () => {
    for (const size of [1, 7, 64, 150, 4096]) {
      const epoch = performance.now();
      const meter = new FanoutMeter(2, 2, epoch);
      const step = meter.beginStep(1);
      const connection = fakeConnection();
      meter.attach(1, connection, Buffer.alloc(0), null);
      const presence = Buffer.from('{"type":"presence","user":"u9","status":"online"}\n');
      feed(connection, Buffer.concat([presence, frames(1, 0, [0, 1, 2], 0), frames(1, 1, [0, 1], 0)]), size);
      expect(step.delivered, `read size ${size}`).toBe(5);
      expect(step.outOfOrder).toBe(0);
      expect(step.latencyUs.count).toBe(5);
      step.expected = 5;
      feed(connection, frames(1, 0, [3], 0), size);
      expect(step.drainedAt).toBeGreaterThan(0);
    }
  });

  it('counts reordering per sender, and payloads of another step as stale', () => {
    const meter = new FanoutMeter(1, 2, performance.now());
    const step = meter.beginStep(5);
    const connection = fakeConnection();
    meter.attach(0, connection, Buffer.alloc(0), null);
    feed(connection, Buffer.concat([frames(5, 0, [0, 2, 1, 3], 0), frames(5, 1, [0], 0), frames(4, 0, [9], 0)]), 4096);
    expect(step.delivered).toBe(5);
    expect(step.outOfOrder).toBe(1);
    expect(step.stale).toBe(1);
  });

  it('counts a connection closed by the server as a lost client, but not after shutdown()', () => {
    const meter = new FanoutMeter(2, 1, performance.now());
    const a = fakeConnection();
    const b = fakeConnection();
    meter.attach(0, a, Buffer.alloc(0), null);
    meter.attach(1, b, Buffer.alloc(0), null);
    a.socket.emit('close');
    meter.shutdown();
    b.socket.emit('close');
    expect(meter.lostClients).toBe(1);
  });

  it('counts refusals seen by a sender', () => {
    const meter = new FanoutMeter(1, 1, performance.now());
    const connection = fakeConnection();
    meter.attach(0, connection, Buffer.alloc(0), '"type":"error"');
    feed(connection, Buffer.from('{"type":"error","code":"rate_limited","message":"slow down"}\n'.repeat(3)), 4096);
    expect(meter.refusals).toBe(3);
  });
});
