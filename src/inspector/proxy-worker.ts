import { parentPort, workerData } from 'node:worker_threads';
import { now, type WireEvent } from './events.ts';
import { GapTracker } from './gap-tracker.ts';
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
const gaps = new GapTracker(options.maxInFlightBytes);
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

/** Posts every event observed so far, gaps included. */
function flushAll(): void {
  gaps.takeAll(now(), queue);
  flush();
}

port.on('message', (message: ProxyThreadMessage) => {
  if (message.type === 'ack') {
    gaps.release(message.bytes);
    return;
  }
  if (message.type === 'sync') {
    // A barrier for the main thread: answer only after everything observed so far is posted.
    // The answer follows those events on the same port, so it arrives after them.
    const { id } = message;
    void afterPendingInput().then(() => {
      flushAll();
      post({ type: 'synced', id });
    });
    return;
  }
  if (message.type === 'close') {
    void (async () => {
      await proxy?.close();
      flushAll();
      post({ type: 'closed' });
      port.close();
    })();
  }
});

try {
  proxy = await startProxy({ listen: options.listen, target: options.target, faults: options.faults, helloTimeoutMs: options.helloTimeoutMs, onEvent: (event) => gaps.admit(event, queue) });
  post({ type: 'ready', address: proxy.address });
} catch (error) {
  const e = error as NodeJS.ErrnoException;
  post({ type: 'failed', code: e.code, message: e.message });
  port.close();
}
