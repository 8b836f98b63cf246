import net from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { CheckFailure } from './failure.ts';
import { FLOOD_LIMIT, INBOX_LIMITS, Probe } from './probe.ts';
import { TRANSCRIPT_LIMITS, Transcript } from './transcript.ts';
import { rejection } from '../../test-support/promises.ts';

const HELLO = '{"type":"hello","protocol":"chatlab/1"}\n';
const GHOST = '{"type":"presence","user":"ghost","status":"online"}\n';

/** A peer that sends hello, then valid presence frames as fast as the socket takes them, until closed. */
function floodingServer(): Promise<net.Server> {
  const server = net.createServer((socket) => {
    socket.on('error', () => socket.destroy());
    socket.write(HELLO);
    const pump = (): void => {
      while (!socket.destroyed) {
        if (!socket.write(GHOST)) {
          socket.once('drain', pump);
          return;
        }
      }
    };
    pump();
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

let cleanup: (() => void)[] = [];
afterEach(() => {
  for (const done of cleanup.splice(0)) done();
});

describe('Probe against a peer that floods', () => {
  test('a wait for a frame that never comes fails with the flood rule, long before its timeout, keeping only the last frames', async () => {
    const server = await floodingServer();
    cleanup.push(() => server.close());
    const { port } = server.address() as net.AddressInfo;
    const transcript = new Transcript();
    const probe = await Probe.connect({ host: '127.0.0.1', port, name: 'alice', transcript, timeoutMs: 5_000 });
    cleanup.push(() => probe.dispose());

    // The test's own 30 s limit is far below this timeout: only the flood rule can end the wait.
    const error = await rejection<CheckFailure>(probe.next((r) => r.frame?.type === 'welcome', 600_000, { what: 'a welcome' }));
    expect(error).toBeInstanceOf(CheckFailure);
    expect(error.report.summary).toMatch(/^the server sent 10,000 frames \([\d.]+ [kM]B\) to alice without a welcome — is it looping\?$/);
    expect(error.report.received).toContain('{"type":"presence","user":"ghost","status":"online"}<LF>');
    expect(error.report.hint).toContain('look for a send in a loop');

    // What the verifier keeps stays bounded however much arrived.
    expect(FLOOD_LIMIT.frames).toBe(10_000);
    expect(probe.inbox.length).toBeLessThanOrEqual(INBOX_LIMITS.items);
    expect(probe.inboxDropped).toBeGreaterThan(FLOOD_LIMIT.frames - INBOX_LIMITS.items - 1);
    expect(transcript.events.length).toBeLessThanOrEqual(TRANSCRIPT_LIMITS.items);
    expect(transcript.omitted.events).toBeGreaterThan(FLOOD_LIMIT.frames - TRANSCRIPT_LIMITS.items);
    expect(transcript.seq).toBe(transcript.omitted.events + transcript.events.length);
    // The probe stopped reading at the frame at fault: it is the last event, marked in the diagram.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(transcript.events.at(-1)).toMatchObject({ seq: error.report.culprit, kind: 'recv', conn: 'alice' });
  });

  test('a wait that gets what it wants among a few other frames is no flood', async () => {
    const server = net.createServer((socket) => {
      socket.write(HELLO + GHOST.repeat(50) + '{"type":"welcome","user":"alice","users":["alice"]}\n');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanup.push(() => server.close());
    const { port } = server.address() as net.AddressInfo;
    const probe = await Probe.connect({ host: '127.0.0.1', port, name: 'alice', transcript: new Transcript(), timeoutMs: 5_000 });
    cleanup.push(() => probe.dispose());
    const wait = await probe.next((r) => r.frame?.type === 'welcome', 5_000);
    expect(wait.kind).toBe('frame');
    expect(probe.unconsumed((r) => r.frame?.type === 'presence')).toHaveLength(50);
  });
});
