import net from 'node:net';
import type { Direction } from '../protocol/index.ts';
import { now, type Endpoint, type FaultOptions, type WireEvent } from './events.ts';

/** Options of {@link startProxy}. */
export interface ProxyOptions {
  /** Where to listen (host defaults to 127.0.0.1; port 0 = any free port). */
  listen: { host?: string; port: number };
  /** The server every connection is forwarded to. */
  target: Endpoint;
  /** Faults to inject on the path (none by default). */
  faults?: FaultOptions;
  /** Receives every event, synchronously, right after the bytes went on. */
  onEvent: (event: WireEvent) => void;
  /** Bytes a direction may hold (delayed or fragmented) before its sender is paused (default 64 KiB). */
  highWaterMark?: number;
  /**
   * Report a `silent` event when the server sends nothing within this many ms of accepting
   * (a chatlab/1 server says hello at once). Default: no watch (lesson servers before the hello
   * step say nothing on purpose).
   */
  helloTimeoutMs?: number;
}

/** A running proxy. */
export interface InspectorProxy {
  /** The address it listens on (with the real port when 0 was asked). */
  readonly address: Endpoint;
  /** Connections currently open. */
  readonly openConnections: number;
  /** Stops listening, tears down every connection and resolves when all sockets are closed. */
  close(): Promise<void>;
}

interface Piece {
  bytes: Buffer;
  due: number;
}

/**
 * Forwards one direction (src → dst) byte-exactly, respecting backpressure both ways: the
 * sender is paused while the receiver's buffer is full (`write()` returned false) or while too
 * many bytes wait in the delay/fragment queue. Every piece written is reported as a `data` event.
 */
class Pump {
  private readonly queue: Piece[] = [];
  private queuedBytes = 0;
  private waitingDrain = false;
  private srcEnded = false;
  private finished = false;
  private timer: NodeJS.Timeout | undefined;
  private sending = false;
  private reads = 0;
  flowing = false;

  constructor(
    private readonly conn: Connection,
    private readonly dir: Direction,
    private readonly src: net.Socket,
    private readonly dst: net.Socket,
  ) {
    src.on('data', (chunk: Buffer) => this.onData(chunk));
    src.on('end', () => {
      this.srcEnded = true;
      this.maybeFinish();
    });
    dst.on('drain', () => {
      this.waitingDrain = false;
      this.sendDue();
      this.updateFlow();
    });
  }

  private get direct(): boolean {
    const f = this.conn.faults;
    return !f.fragment && !f.delayMs;
  }

  /** Starts reading from the sender. */
  start(): void {
    this.flowing = true;
    this.updateFlow();
  }

  private onData(chunk: Buffer): void {
    const allowed = this.conn.allowance(chunk.length);
    const bytes = allowed < chunk.length ? chunk.subarray(0, allowed) : chunk;
    if (this.direct) {
      if (bytes.length > 0) this.write(bytes);
    } else {
      const due = now() + (this.conn.faults.delayMs ?? 0);
      const size = this.conn.faults.fragment ?? bytes.length;
      for (let offset = 0; offset < bytes.length; offset += size) {
        this.queue.push({ bytes: bytes.subarray(offset, offset + size), due });
      }
      this.queuedBytes += bytes.length;
      this.sendDue();
    }
    if (this.conn.limitReached) this.conn.cut();
    this.updateFlow();
  }

  private write(bytes: Buffer): void {
    if (this.dst.destroyed || this.dst.writableEnded) return;
    const ok = this.dst.write(bytes);
    this.conn.emit({ kind: 'data', t: now(), conn: this.conn.id, dir: this.dir, read: ++this.reads, bytes });
    if (!ok) this.waitingDrain = true;
  }

  // Sends queued pieces that are due, one per macrotask when fragmenting so each goes out as its
  // own TCP segment (Nagle is off), and arms a timer for the next due piece.
  private sendDue(): void {
    if (this.sending || this.dst.destroyed) return;
    while (this.queue.length > 0 && !this.waitingDrain) {
      const head = this.queue[0] as Piece;
      const wait = head.due - now();
      if (wait > 0.5) {
        if (!this.timer) {
          this.timer = setTimeout(() => {
            this.timer = undefined;
            this.sendDue();
          }, Math.ceil(wait));
        }
        return;
      }
      this.queue.shift();
      this.queuedBytes -= head.bytes.length;
      this.write(head.bytes);
      if (this.conn.faults.fragment && this.queue.length > 0) {
        this.sending = true;
        setImmediate(() => {
          this.sending = false;
          this.sendDue();
          this.updateFlow();
        });
        return;
      }
    }
    this.updateFlow();
    this.maybeFinish();
    this.conn.maybeCut();
  }

  private updateFlow(): void {
    if (!this.flowing || this.src.destroyed) return;
    const hold = this.waitingDrain || this.queuedBytes > this.conn.highWaterMark;
    if (hold && !this.src.isPaused()) this.src.pause();
    else if (!hold && this.src.isPaused()) this.src.resume();
  }

  private maybeFinish(): void {
    if (!this.srcEnded || this.finished || this.queue.length > 0 || this.sending) return;
    this.finished = true;
    if (!this.dst.destroyed && !this.dst.writableEnded) this.dst.end();
    this.conn.emit({ kind: 'end', t: now(), conn: this.conn.id, dir: this.dir });
  }

  /** Nothing queued or being sent. */
  get idle(): boolean {
    return this.queue.length === 0 && !this.sending;
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.queue.length = 0;
    this.queuedBytes = 0;
  }
}

/** One client connection and its twin connection to the server. */
class Connection {
  readonly upstream: net.Socket;
  private forwarded = 0;
  private cutDone = false;
  private cutPending = false;
  private readonly errors: { client?: string; server?: string } = {};
  private connected = false;
  private readonly pumps: Pump[] = [];
  private helloTimer: NodeJS.Timeout | undefined;
  readonly closed: Promise<void>;

  constructor(
    readonly id: number,
    readonly client: net.Socket,
    target: Endpoint,
    readonly faults: FaultOptions,
    readonly highWaterMark: number,
    private readonly report: (event: WireEvent) => void,
    private readonly helloTimeoutMs: number | undefined,
  ) {
    const emit = this.emit;
    const peer = `${client.remoteAddress ?? '?'}:${client.remotePort ?? '?'}`;
    emit({ kind: 'open', t: now(), conn: id, peer });
    this.upstream = net.connect({ host: target.host, port: target.port, allowHalfOpen: true });
    const closedSides = Promise.all([this.watchClose(client, 'client'), this.watchClose(this.upstream, 'server')]);
    this.closed = closedSides.then(() => undefined);

    // A failed side is passed on to the other as a reset (see watchClose), as it would be without us.
    client.on('error', (error: NodeJS.ErrnoException) => {
      this.errors.client ??= error.code ?? error.message;
    });
    this.upstream.on('error', (error: NodeJS.ErrnoException) => {
      this.errors.server ??= error.code ?? error.message;
    });
    this.upstream.once('connect', () => {
      this.connected = true;
      client.setNoDelay(true);
      this.upstream.setNoDelay(true);
      emit({ kind: 'upstream', t: now(), conn: id, local: `${this.upstream.localAddress}:${this.upstream.localPort}` });
      this.pumps.push(new Pump(this, 'c2s', client, this.upstream), new Pump(this, 's2c', this.upstream, client));
      for (const pump of this.pumps) pump.start();
      if (this.helloTimeoutMs) this.helloTimer = setTimeout(this.reportSilence, this.helloTimeoutMs);
    });
  }

  /** Reports an event; the server's first bytes (or the end of either side) end the hello watch. */
  readonly emit = (event: WireEvent): void => {
    if (this.helloTimer && ((event.kind === 'data' && event.dir === 's2c') || event.kind === 'end' || event.kind === 'close')) {
      clearTimeout(this.helloTimer);
      this.helloTimer = undefined;
    }
    this.report(event);
  };

  private readonly reportSilence = (): void => {
    this.helloTimer = undefined;
    this.emit({ kind: 'silent', t: now(), conn: this.id, ms: this.helloTimeoutMs as number });
  };

  /** How many of `wanted` bytes may still pass before `--drop-after` cuts the connection. */
  allowance(wanted: number): number {
    const limit = this.faults.dropAfter;
    if (limit === undefined) return wanted;
    const left = Math.max(0, limit - this.forwarded);
    const allowed = Math.min(wanted, left);
    this.forwarded += allowed;
    return allowed;
  }

  /** `--drop-after` bytes have gone through. */
  get limitReached(): boolean {
    return this.faults.dropAfter !== undefined && this.forwarded >= this.faults.dropAfter;
  }

  /** Fault injection: once the allowed bytes are out, reset both sockets as a network failure would. */
  cut(): void {
    this.cutPending = true;
    this.maybeCut();
  }

  /** Called by the pumps when they go idle: performs a pending cut once nothing is queued. */
  maybeCut(): void {
    if (!this.cutPending || this.cutDone || this.pumps.some((p) => !p.idle)) return;
    this.cutDone = true;
    this.emit({ kind: 'fault', t: now(), conn: this.id, fault: 'drop', detail: `--drop-after ${this.faults.dropAfter}: ${this.forwarded} bytes forwarded, connection reset` });
    setImmediate(() => this.destroy(true));
  }

  /** Tears both sockets down (with RST when `reset`). */
  destroy(reset = false): void {
    clearTimeout(this.helloTimer);
    this.helloTimer = undefined;
    for (const pump of this.pumps) pump.stop();
    for (const socket of [this.client, this.upstream]) {
      if (socket.destroyed) continue;
      if (reset && socket.readyState !== 'opening') socket.resetAndDestroy();
      else socket.destroy();
    }
  }

  private watchClose(socket: net.Socket, side: 'client' | 'server'): Promise<void> {
    return new Promise((resolve) => {
      socket.once('close', () => {
        const error = this.errors[side];
        const refused = side === 'server' && !this.connected;
        this.emit({ kind: 'close', t: now(), conn: this.id, side, ...(error ? { error } : {}), ...((error && !refused) || this.cutDone ? { reset: true } : {}) });
        // Only now pass a failure on (the server sees a reset, the client of a refused target
        // too): the other side's close is then reported after its cause, never before it.
        const other = side === 'client' ? this.upstream : this.client;
        if (error && !other.destroyed) other.resetAndDestroy();
        resolve();
      });
    });
  }
}

/**
 * Resolves once the proxy has read every byte and FIN that had reached its sockets when this was
 * called, and reported them. Such input is read in the poll phase of the event loop, in no set
 * order with whatever asked (a message from the main thread, another socket's data): one turn of
 * the loop may still be reading, the next one polls everything that had arrived by then. The
 * `data` and `end` events it causes are emitted synchronously while reading, so they are out by
 * the turn after. (A socket's `close` may take longer: it waits for the proxy's own writes.)
 */
export function afterPendingInput(): Promise<void> {
  return new Promise((resolve) => setImmediate(() => setImmediate(resolve)));
}

/**
 * Starts the transparent TCP proxy: the thin socket shell of the inspector. It accepts clients,
 * connects each to the target, forwards bytes unchanged both ways with backpressure, passes
 * half-closes and resets on, applies fault injection, and reports everything as {@link WireEvent}s.
 * It never decodes anything itself.
 */
export async function startProxy(options: ProxyOptions): Promise<InspectorProxy> {
  const faults = options.faults ?? {};
  const highWaterMark = options.highWaterMark ?? 64 * 1024;
  const connections = new Set<Connection>();
  let nextId = 1;
  const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true }, (client) => {
    const connection = new Connection(nextId++, client, options.target, faults, highWaterMark, options.onEvent, options.helloTimeoutMs);
    connections.add(connection);
    void connection.closed.then(() => connections.delete(connection));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.listen.port, options.listen.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = server.address() as net.AddressInfo;
  const address = { host: bound.address, port: bound.port };
  return {
    address,
    get openConnections() {
      return connections.size;
    },
    async close() {
      const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
      const all = [...connections];
      for (const connection of all) connection.destroy();
      await Promise.all(all.map((c) => c.closed));
      await serverClosed;
    },
  };
}
