/**
 * End to end: nothing acknowledged is lost when the real `chatlab server` is killed with SIGKILL,
 * and no msgid is ever handed out twice. Two clients pipeline `say` frames with ids (a `ping`
 * first in every batch, so output is already queued when the messages are recorded) into a
 * server on a file database; the server is killed after a random number of acknowledgements
 * and restarted, a few times. Then every msgid an `ok` acknowledged must be in the database exactly once with its
 * text, and no msgid may have named two different messages across all runs (acks, relays and
 * replays alike).
 */
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, expect, it } from 'vitest';
import { FrameDecoder, encodeFrame, type RawFrame } from '../src/protocol/index.ts';
import { startCliProcess, type CliRun } from '../test-support/cli-process.ts';
import { within } from '../test-support/promises.ts';

const dir = mkdtempSync(join(tmpdir(), 'chatlab-durability-'));
const db = join(dir, 'chat.db');
const servers: CliRun[] = [];
const ROUNDS = 4;
/** Frames written per batch: a ping, then this many says. */
const SAYS_PER_BATCH = 300;
/** Batches a client has in flight (written, not all acknowledged): the pipelining depth. */
const BATCHES_IN_FLIGHT = 3;
const LISTENING = /^chatlab server listening on 127\.0\.0\.1:(\d+) /;

afterEach(() => {
  for (const server of servers.splice(0)) if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGKILL');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** What every run saw, checked at the end. */
interface Observed {
  /** msgid → text, for every msgid an `ok` carried. */
  acked: Map<number, string>;
  /** msgid → text, for every msgid seen at all (ok, relay, replay); a second text is a reuse. */
  issued: Map<number, string>;
  /** Every msgid that named two different messages. */
  reused: string[];
}

function note(observed: Observed, msgid: number, text: string, how: string): void {
  const before = observed.issued.get(msgid);
  if (before === undefined) observed.issued.set(msgid, text);
  else if (before !== text) observed.reused.push(`msgid ${msgid}: "${before}" and then "${text}" (${how})`);
}

/**
 * A client that logs in (registering first on the first run), then writes batches of frames
 * whenever the socket takes them, until the server goes away. Reads everything it is sent.
 */
function pipeline(port: number, user: string, round: number, observed: Observed, onReady: () => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket: Socket = connect(port, '127.0.0.1');
    const decoder = new FrameDecoder();
    const texts = new Map<number, string>();
    let nextId = 1;
    let sent = 0;
    let sending = false;
    let unanswered = 0;
    const send = (frame: object) => socket.write(encodeFrame(frame as RawFrame));
    const pump = () => {
      if (!sending || socket.destroyed) return;
      while (unanswered < BATCHES_IN_FLIGHT * SAYS_PER_BATCH) {
        const chunks: Buffer[] = [encodeFrame({ type: 'ping', id: nextId++ })];
        for (let i = 0; i < SAYS_PER_BATCH; i++) {
          const id = nextId++;
          const text = `${user} r${round} #${sent++}`;
          texts.set(id, text);
          chunks.push(encodeFrame({ type: 'say', text, id }));
        }
        unanswered += SAYS_PER_BATCH;
        socket.write(Buffer.concat(chunks));
      }
    };
    const handle = (frame: RawFrame) => {
      switch (frame.type) {
        case 'hello':
          if (round === 0) send({ type: 'register', user, password: 'durable-pw', id: 'reg' });
          else send({ type: 'login', user, password: 'durable-pw', id: 'login' });
          return;
        case 'welcome':
          sending = true;
          onReady();
          pump();
          return;
        case 'message':
          note(observed, frame.msgid as number, frame.text as string, frame.history ? `replayed to ${user}` : `relayed to ${user}`);
          return;
        case 'ok': {
          if (frame.id === 'reg') return void send({ type: 'login', user, password: 'durable-pw', id: 'login' });
          const text = texts.get(frame.id as number);
          if (text === undefined || typeof frame.msgid !== 'number') return;
          observed.acked.set(frame.msgid, text);
          if (--unanswered === SAYS_PER_BATCH) pump();
          note(observed, frame.msgid, text, `acknowledged to ${user}`);
          return;
        }
        case 'error':
          return reject(new Error(`${user} got an error: ${JSON.stringify(frame)}`));
      }
    };
    socket.on('data', (chunk: Buffer) => {
      for (const item of decoder.push(chunk)) if (item.ok) handle(item.frame);
    });
    socket.on('error', () => {
      // The server was killed: a reset is expected.
    });
    socket.on('close', () => resolve());
  });
}

it('keeps every acknowledged message and never reuses a msgid across kill -9 and restart', { timeout: 30_000 }, async () => {
  const observed: Observed = { acked: new Map(), issued: new Map(), reused: [] };
  for (let round = 0; round < ROUNDS; round++) {
    const server = startCliProcess(['server', '--port', '0', '--db', db, '--limit', 'rateLimitPerSecond=10000000', '--limit', 'rateLimitBurst=10000000', '--limit', 'historyRetainPerConversation=0']);
    servers.push(server);
    const port = Number(LISTENING.exec(await server.line(LISTENING))?.[1]);
    let ready = 0;
    let bothReady!: () => void;
    const readyPromise = new Promise<void>((resolve) => (bothReady = resolve));
    const onReady = () => ++ready === 2 && bothReady();
    const clients = [pipeline(port, 'alice', round, observed, onReady), pipeline(port, 'bob', round, observed, onReady)];
    await within(Promise.race([readyPromise, ...clients.map((c) => c.then(() => Promise.reject(new Error('a client closed before login'))))]), 10_000, 'both clients to log in');
    // Killed at a random point of the traffic: after a random number of acknowledgements, not a time.
    const killAt = observed.acked.size + 300 + Math.floor(Math.random() * 1_200);
    await expect.poll(() => observed.acked.size, { timeout: 10_000, interval: 2 }).toBeGreaterThanOrEqual(killAt);
    server.child.kill('SIGKILL');
    await within(Promise.all(clients), 10_000, 'the clients to see the server go');
    await server.exited;
  }
  expect(observed.reused).toEqual([]);
  expect(observed.acked.size).toBeGreaterThan(1_000);
  const reader = new Database(db, { readonly: true });
  const rows = reader.prepare<[], { msgid: number; text: string }>('SELECT msgid, text FROM messages').all();
  reader.close();
  const stored = new Map(rows.map((row) => [row.msgid, row.text]));
  const copies = new Map<string, number>();
  for (const row of rows) copies.set(row.text, (copies.get(row.text) ?? 0) + 1);
  const missing: string[] = [];
  for (const [msgid, text] of observed.acked) {
    if (stored.get(msgid) !== text || copies.get(text) !== 1) missing.push(`${msgid} "${text}" (stored: ${JSON.stringify(stored.get(msgid))}, copies ${copies.get(text) ?? 0})`);
  }
  expect(missing.slice(0, 10), `${missing.length} of ${observed.acked.size} acknowledged messages not stored exactly once`).toEqual([]);
});
