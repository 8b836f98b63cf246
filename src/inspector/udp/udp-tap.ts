import dgram from 'node:dgram';
import type { Direction } from '../../protocol/index.ts';
import type { EventConsumer, EventSource } from '../event-flow.ts';
import { now, type DatagramFate, type Endpoint, type FaultOptions, type WireEvent } from '../events.ts';
import { GapTracker } from '../gap-tracker.ts';
import { DatagramFaults } from './datagram-faults.ts';

/** Options of {@link startUdpTap}. */
export interface UdpTapOptions {
  /** Where clients send their datagrams (host defaults to 127.0.0.1; port 0 = any free port). */
  listen: { host?: string; port: number };
  /** The UDP server every datagram is forwarded to. */
  target: Endpoint;
  /** Loss, reorder, duplicate, delay; `seed` decides the random ones (default 1). */
  faults?: FaultOptions;
  /** Bytes of datagram events handed over and not yet consumed before new ones become `gap` events. */
  maxInFlightBytes: number;
  /** Client addresses remembered at once; the one silent longest is forgotten to make room (default 1,024). */
  maxPeers?: number;
}

/** How long a held-back datagram waits for the next one of its stream before it goes on alone (ms). */
export const REORDER_HOLD_MS = 200;

/** One client address: its lifeline number, its own socket towards the server, and its fault streams. */
interface Peer {
  conn: number;
  address: string;
  port: number;
  upstream: dgram.Socket;
  seq: Record<Direction, number>;
  faults: Record<Direction, DatagramFaults>;
  /** The datagram held back per direction (reorder), and the timer that sends it alone. */
  held: Record<Direction, { seq: number; bytes: Buffer; timer: NodeJS.Timeout } | undefined>;
  heardAt: number;
}

/**
 * The UDP inspector's event source: a datagram relay. Each client address gets its own socket
 * towards the server (so the server sees one address per client, and its answers find their way
 * back), and a lifeline (an `open` event). Every datagram is one `datagram` event, whatever
 * became of it: forwarded byte-exact, dropped (`--loss`), sent twice (`--duplicate`), held back
 * behind the next one (`--reorder`), or late (`--delay`). It runs on the main thread: a datagram
 * is small and whole, and what the view has not consumed is bounded like the TCP proxy's (a
 * {@link GapTracker}), so a slow view never slows the chat.
 */
export class UdpTap implements EventSource {
  private readonly front = dgram.createSocket('udp4');
  private readonly peers = new Map<string, Peer>();
  private readonly gaps: GapTracker;
  private readonly timers = new Set<NodeJS.Timeout>();
  private consumer: EventConsumer | undefined;
  private held: WireEvent[] = [];
  private nextConn = 1;
  private closed = false;
  private boundAddress: Endpoint | undefined;
  private readonly faults: FaultOptions;
  private readonly seed: number;
  private readonly maxPeers: number;

  constructor(private readonly options: UdpTapOptions) {
    this.gaps = new GapTracker(options.maxInFlightBytes);
    this.faults = options.faults ?? {};
    this.seed = this.faults.seed ?? 1;
    this.maxPeers = options.maxPeers ?? 1_024;
    this.front.on('message', this.onClientDatagram);
    // A send to a client that went away can fail (ICMP port unreachable): that client's loss only.
    this.front.on('error', ignore);
  }

  /** Binds the client-facing socket; resolves once it listens. */
  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.front.once('error', reject);
      this.front.bind(this.options.listen.port, this.options.listen.host ?? '127.0.0.1', () => {
        this.front.off('error', reject);
        const address = this.front.address();
        this.boundAddress = { host: address.address, port: address.port };
        resolve();
      });
    });
  }

  get address(): Endpoint {
    if (!this.boundAddress) throw new Error('the UDP tap is not listening yet');
    return this.boundAddress;
  }

  /** Client addresses currently remembered. */
  get openConnections(): number {
    return this.peers.size;
  }

  deliverTo(consumer: EventConsumer): void {
    if (this.consumer) throw new Error('the UDP tap already delivers to a consumer');
    this.consumer = consumer;
    const held = this.held;
    this.held = [];
    for (const event of held) consumer.push(event);
  }

  consumed(bytes: number): void {
    this.gaps.release(bytes);
  }

  /** Resolves after the datagrams that had reached the tap's sockets were handled (one poll phase, then its check phase). */
  sync(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => setImmediate(() => setImmediate(resolve)));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    const sockets = [this.front, ...[...this.peers.values()].map((peer) => peer.upstream)];
    this.peers.clear();
    await Promise.all(sockets.map((socket) => new Promise<void>((resolve) => socket.close(() => resolve()))));
    this.gaps.takeAll(now(), this.emit);
  }

  private readonly onClientDatagram = (bytes: Buffer, from: dgram.RemoteInfo): void => {
    if (this.closed) return;
    const peer = this.peerFor(from);
    this.forward(peer, 'c2s', bytes);
  };

  private peerFor(from: dgram.RemoteInfo): Peer {
    const key = `${from.address}:${from.port}`;
    const known = this.peers.get(key);
    if (known) {
      known.heardAt = now();
      // Most recently heard last: the first in the map is the one to forget when full.
      this.peers.delete(key);
      this.peers.set(key, known);
      return known;
    }
    if (this.peers.size >= this.maxPeers) this.forget(this.peers.keys().next().value as string);
    const conn = this.nextConn++;
    const upstream = dgram.createSocket('udp4');
    const peer: Peer = {
      conn,
      address: from.address,
      port: from.port,
      upstream,
      seq: { c2s: 0, s2c: 0 },
      faults: { c2s: new DatagramFaults(this.faults, this.seed, conn, 'c2s'), s2c: new DatagramFaults(this.faults, this.seed, conn, 's2c') },
      held: { c2s: undefined, s2c: undefined },
      heardAt: now(),
    };
    this.peers.set(key, peer);
    this.emit({ kind: 'open', t: now(), conn, peer: key });
    upstream.on('message', (answer: Buffer, source: dgram.RemoteInfo) => {
      // Only the server's answers: the socket is not connected (a send while connecting would fail).
      if (!this.closed && source.port === this.options.target.port) this.forward(peer, 's2c', answer);
    });
    upstream.on('error', ignore);
    return peer;
  }

  private forget(key: string): void {
    const peer = this.peers.get(key);
    if (!peer) return;
    this.peers.delete(key);
    for (const held of Object.values(peer.held)) if (held) clearTimeout(held.timer);
    peer.upstream.close();
  }

  /** Applies the stream's faults to one datagram, then sends it on (or not) and reports it. */
  private forward(peer: Peer, dir: Direction, bytes: Buffer): void {
    const seq = ++peer.seq[dir];
    const decision = peer.faults[dir].next();
    if (decision.lose) {
      this.emit({ kind: 'datagram', t: now(), conn: peer.conn, dir, seq, bytes, fate: 'lost' });
      return;
    }
    const earlier = peer.held[dir];
    if (decision.holdBack && !earlier) {
      const timer = setTimeout(() => this.releaseHeld(peer, dir), REORDER_HOLD_MS);
      peer.held[dir] = { seq, bytes, timer };
      return;
    }
    this.later(() => {
      this.send(peer, dir, seq, bytes, 'delivered');
      if (decision.duplicate) this.send(peer, dir, seq, bytes, 'duplicate');
    });
    // The datagram held back goes on after this one: it arrives out of order.
    if (earlier) this.releaseHeld(peer, dir);
  }

  private releaseHeld(peer: Peer, dir: Direction): void {
    const held = peer.held[dir];
    if (!held) return;
    clearTimeout(held.timer);
    peer.held[dir] = undefined;
    this.later(() => this.send(peer, dir, held.seq, held.bytes, 'delivered'));
  }

  /** Runs `send` now, or after `--delay` ms (timers of equal delay keep their order). */
  private later(send: () => void): void {
    const delayMs = this.faults.delayMs ?? 0;
    if (delayMs <= 0) {
      send();
      return;
    }
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (!this.closed) send();
    }, delayMs);
    this.timers.add(timer);
  }

  private send(peer: Peer, dir: Direction, seq: number, bytes: Buffer, fate: DatagramFate): void {
    if (dir === 'c2s') peer.upstream.send(bytes, this.options.target.port, this.options.target.host);
    else this.front.send(bytes, peer.port, peer.address);
    this.emit({ kind: 'datagram', t: now(), conn: peer.conn, dir, seq, bytes, fate });
  }

  private readonly emit = (event: WireEvent): void => {
    this.gaps.admit(event, this.pass);
  };

  private readonly pass = (event: WireEvent): void => {
    if (this.consumer) this.consumer.push(event);
    else this.held.push(event);
  };
}

function ignore(): void {}

/** Starts a UDP tap; resolves once it listens (rejects with the bind error, e.g. EADDRINUSE). */
export async function startUdpTap(options: UdpTapOptions): Promise<UdpTap> {
  const tap = new UdpTap(options);
  await tap.listen();
  return tap;
}
