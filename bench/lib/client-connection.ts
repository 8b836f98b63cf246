/**
 * One benchmark client's TCP connection, read without Node's stream machinery.
 *
 * With 1,000 receivers the generator handles hundreds of thousands of reads per second, and a
 * stream 'data' event (a fresh Buffer per read, the Readable bookkeeping, an emit) costs more
 * than scanning the bytes. So sockets are opened with `onread`: the kernel's bytes land in ONE
 * shared buffer and a plain callback sees them. The callbacks run synchronously, one at a time,
 * so sharing the buffer is safe — but a handler must copy whatever it keeps past its return.
 */
import { connect, type Socket } from 'node:net';

/** Receives the bytes of one read: `buf[start, end)`, valid only during the call. */
export type BytesHandler = (buf: Buffer, start: number, end: number) => void;

const SHARED_READ_BUFFER = Buffer.allocUnsafe(128 * 1024);

/** A connected client socket whose reads go to a replaceable handler. */
export class ClientConnection {
  /** Where the next read goes; swapped from the handshake reader to the meter. */
  handler: BytesHandler = () => {};

  private constructor(readonly socket: Socket) {}

  /** Opens a connection and resolves once it is established. */
  static open(host: string, port: number, timeoutMs: number): Promise<ClientConnection> {
    return new Promise((resolve, reject) => {
      let connection: ClientConnection | null = null;
      const socket = connect({
        host,
        port,
        noDelay: true,
        onread: {
          buffer: SHARED_READ_BUFFER,
          callback: (bytes: number, buf: Uint8Array): boolean => {
            connection?.handler(buf as Buffer, 0, bytes);
            return true; // keep reading
          },
        },
      });
      connection = new ClientConnection(socket);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`connect to ${host}:${port} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.off('error', onError);
        socket.on('error', () => {}); // a later reset shows up as 'close'
        resolve(connection!);
      });
      const onError = (err: Error): void => {
        clearTimeout(timer);
        reject(new Error(`connect to ${host}:${port} failed: ${err.message}`));
      };
      socket.once('error', onError);
    });
  }
}
