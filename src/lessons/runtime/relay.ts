import net from 'node:net';
import { LESSON_HOST } from './processes.ts';

/**
 * Byte relays the lesson checks put between two programs: the TLS bridges (tls-bridge.ts) and
 * the round-robin balancer in front of a cluster lesson's nodes (cluster.ts). They pass the bytes
 * on as they come, read by read, and pass on each side's close: a FIN as a FIN, an abrupt drop
 * as an abrupt drop.
 */
export interface Relay {
  /** Where the relay listens, on 127.0.0.1. */
  port: number;
  /** Stops listening and closes every connection it holds. */
  stop(): Promise<void>;
}

/** Where a relay forwards each connection to. */
export interface RelayTarget {
  host: string;
  port: number;
}

/** Joins two sockets: bytes both ways, an end as an end, an error or a reset as a destroy. */
export function splice(a: net.Socket, b: net.Socket): void {
  a.pipe(b);
  b.pipe(a);
  for (const [from, to] of [
    [a, b],
    [b, a],
  ] as const) {
    from.on('error', () => to.destroy());
    from.on('close', (hadError) => (hadError ? to.destroy() : to.end()));
  }
}

/** Listens on a free port of 127.0.0.1; stopping closes the listener and every connection in `sockets`. */
export async function listenRelay(server: net.Server, sockets: Set<net.Socket>): Promise<Relay> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, LESSON_HOST, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as net.AddressInfo).port,
    async stop() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}

/** Keeps `socket` in `sockets` until it closes (so stopping can close it). */
export function track(sockets: Set<net.Socket>, socket: net.Socket): net.Socket {
  sockets.add(socket);
  socket.on('close', () => sockets.delete(socket));
  return socket;
}
