import { parentPort, workerData } from 'node:worker_threads';
import { now, type WireEvent } from './events.ts';
import { GapTracker } from './gap-tracker.ts';
import { afterPendingInput, startProxy, type InspectorProxy } from './proxy.ts';
import type { ProxyThreadMessage, ProxyThreadOptions, ProxyThreadReply } from './proxy-thread.ts';

// The proxy thread (the worker half of proxy-thread.ts): forwards bytes with no diagram work in
// its way, and ships events to the main thread in batches. This is where the bound on undecoded
// bytes in flight is applied: past it, data events are replaced by one `gap` per direction (the
// bytes themselves are always forwarded), and the main thread's `ack`s free room again.

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

/** Adds an event the bound let through to the next batch. */
function queue(event: WireEvent): void {
  batch.push(event);
  if (!flushScheduled) {
    flushScheduled = true;
    setImmediate(flush);
  }
}

/** The proxy's listener: every event goes through the bound on its way to the batch. */
function admit(event: WireEvent): void {
  gaps.admit(event, queue);
}

/** Posts every event observed so far, gaps included. */
function flushAll(): void {
  gaps.takeAll(now(), queue);
  flush();
}

// A barrier for the main thread: answer only after everything observed so far is posted. The
// answer follows those events on the same port, so it arrives after them.
async function answerSync(id: number): Promise<void> {
  await afterPendingInput();
  flushAll();
  post({ type: 'synced', id });
}

async function closeProxy(): Promise<void> {
  await proxy?.close();
  flushAll();
  post({ type: 'closed' });
  port?.close();
}

function onMainMessage(message: ProxyThreadMessage): void {
  switch (message.type) {
    case 'ack':
      gaps.release(message.bytes);
      break;
    case 'sync':
      void answerSync(message.id);
      break;
    case 'close':
      void closeProxy();
      break;
  }
}

port.on('message', onMainMessage);

try {
  proxy = await startProxy({ listen: options.listen, target: options.target, faults: options.faults, helloTimeoutMs: options.helloTimeoutMs, onEvent: admit });
  post({ type: 'ready', address: proxy.address });
} catch (error) {
  const e = error as NodeJS.ErrnoException;
  post({ type: 'failed', code: e.code, message: e.message });
  port.close();
}
