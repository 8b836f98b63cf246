import { parentPort, workerData } from 'node:worker_threads';
import type { Direction } from '../protocol/index.ts';
import { now, type WireEvent } from './events.ts';
import { afterPendingInput, startProxy, type InspectorProxy } from './proxy.ts';
import type { ProxyThreadMessage, ProxyThreadOptions, ProxyThreadReply } from './proxy-thread.ts';

// The proxy thread: forwards bytes with no diagram work in its way, and ships events to the
// main thread in batches. Undecoded bytes in flight are bounded: past the limit, data events
// are replaced by one `gap` per direction (the bytes themselves are always forwarded).

const port = parentPort;
if (!port) throw new Error('proxy-worker.ts must run in a worker thread');
const options = workerData as ProxyThreadOptions;

let batch: WireEvent[] = [];
let flushScheduled = false;
let inFlight = 0;
const gaps = new Map<string, { conn: number; dir: Direction; bytes: number }>();
let proxy: InspectorProxy | undefined;

function post(reply: ProxyThreadReply): void {
  port?.postMessage(reply);
}

function flush(): void {
  flushScheduled = false;
  if (batch.length === 0) return;
  const events = batch;
  batch = [];
  post({ type: 'events', events, open: proxy?.openConnections ?? 0 });
}

function queue(event: WireEvent): void {
  batch.push(event);
  if (!flushScheduled) {
    flushScheduled = true;
    setImmediate(flush);
  }
}

function flushGap(key: string): void {
  const gap = gaps.get(key);
  if (!gap) return;
  gaps.delete(key);
  queue({ kind: 'gap', t: now(), conn: gap.conn, dir: gap.dir, bytes: gap.bytes });
}

function onEvent(event: WireEvent): void {
  if (event.kind === 'data') {
    const key = `${event.conn}:${event.dir}`;
    if (inFlight + event.bytes.length > options.maxInFlightBytes) {
      const gap = gaps.get(key) ?? { conn: event.conn, dir: event.dir, bytes: 0 };
      gap.bytes += event.bytes.length;
      gaps.set(key, gap);
      return;
    }
    flushGap(key);
    inFlight += event.bytes.length;
  } else if ('conn' in event) {
    flushGap(`${event.conn}:c2s`);
    flushGap(`${event.conn}:s2c`);
  }
  queue(event);
}

port.on('message', (message: ProxyThreadMessage) => {
  if (message.type === 'ack') {
    inFlight = Math.max(0, inFlight - message.bytes);
    return;
  }
  if (message.type === 'sync') {
    // A barrier for the main thread: answer only after everything observed so far is posted.
    // The answer follows those events on the same port, so it arrives after them.
    const { id } = message;
    void afterPendingInput().then(() => {
      for (const key of [...gaps.keys()]) flushGap(key);
      flush();
      post({ type: 'synced', id });
    });
    return;
  }
  if (message.type === 'close') {
    void (async () => {
      await proxy?.close();
      for (const key of [...gaps.keys()]) flushGap(key);
      flush();
      post({ type: 'closed' });
      port.close();
    })();
  }
});

try {
  proxy = await startProxy({ listen: options.listen, target: options.target, faults: options.faults, onEvent });
  post({ type: 'ready', address: proxy.address });
} catch (error) {
  const e = error as NodeJS.ErrnoException;
  post({ type: 'failed', code: e.code, message: e.message });
  port.close();
}
