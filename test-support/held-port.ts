/**
 * A free port of 127.0.0.1, taken as another program would take it (a TCP listener, or a bound
 * UDP socket), so a test can start a server on it and watch it refuse.
 *
 * ```ts
 * const held = await holdPort('tcp');
 * try { … PORT=held.port … } finally { await held.release(); }
 * ```
 */
import { createSocket } from 'node:dgram';
import { createServer, type AddressInfo } from 'node:net';

/** A port held by {@link holdPort}, until `release` resolves. */
export interface HeldPort {
  port: number;
  release(): Promise<void>;
}

/** Takes a free port on 127.0.0.1: a TCP listener, or a bound UDP socket. */
export async function holdPort(transport: 'tcp' | 'udp'): Promise<HeldPort> {
  if (transport === 'udp') {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    return { port: socket.address().port, release: () => new Promise((resolve) => socket.close(() => resolve())) };
  }
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, release: () => new Promise((resolve) => server.close(() => resolve())) };
}
