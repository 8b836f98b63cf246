/**
 * How the load generator speaks to each server under test: the handshake that takes one
 * connection into the shared room, and the bytes that wrap one payload into a broadcast request.
 * Receiving needs no dialect: payloads are found by scanning (see payload.ts).
 */
import type { ClientConnection } from './client-connection.ts';

/** The room (IRC channel) every benchmark client is in. */
export const BENCH_CHANNEL = '#bench';
/** Password of every benchmark account on the chatlab server. */
export const BENCH_PASSWORD = 'bench-password';

/** One wire dialect. */
export interface Dialect {
  readonly name: string;
  /** Bytes before the payload in a broadcast request. */
  readonly requestPrefix: Buffer;
  /** Bytes after the payload (the terminator included). */
  readonly requestSuffix: Buffer;
  /**
   * Takes a freshly connected client into the room as user `user`; resolves with any bytes
   * that arrived after the handshake's last line. Rejects with a clear message on refusal.
   */
  handshake(connection: ClientConnection, user: string, timeoutMs: number): Promise<Buffer>;
  /** A string that, seen by a sender, means the server refused a request (counted, not fatal). */
  readonly refusalNeedle: string | null;
}

/**
 * Reads lines from `connection` until `onLine(line)` returns true; `onLine` may write answers or
 * throw to fail the handshake. Returns (a copy of) the bytes after the matching line.
 */
export function readLinesUntil(connection: ClientConnection, timeoutMs: number, what: string, onLine: (line: string) => boolean): Promise<Buffer> {
  const socket = connection.socket;
  return new Promise((resolve, reject) => {
    let pending: Buffer = Buffer.alloc(0);
    const cleanup = (): void => {
      clearTimeout(timer);
      connection.handler = () => {};
      socket.off('close', onClose);
      socket.off('error', onError);
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
    }, timeoutMs);
    const onClose = (): void => {
      cleanup();
      reject(new Error(`connection closed while waiting for ${what}`));
    };
    const onError = (err: Error): void => {
      cleanup();
      reject(new Error(`socket error while waiting for ${what}: ${err.message}`));
    };
    connection.handler = (buf, from, to) => {
      // The read buffer is shared and reused: keep a copy.
      pending = Buffer.concat([pending, buf.subarray(from, to)]);
      let start = 0;
      for (;;) {
        const nl = pending.indexOf(0x0a, start);
        if (nl === -1) break;
        const line = pending.toString('utf8', start, nl).replace(/\r$/, '');
        start = nl + 1;
        let finished: boolean;
        try {
          finished = onLine(line);
        } catch (err) {
          cleanup();
          reject(err instanceof Error ? err : new Error(String(err)));
          return;
        }
        if (finished) {
          cleanup();
          resolve(Buffer.from(pending.subarray(start)));
          return;
        }
      }
      pending = pending.subarray(start);
    };
    socket.on('close', onClose);
    socket.on('error', onError);
  });
}

/** Baseline (a): plain lines, no handshake. */
export const rawDialect: Dialect = {
  name: 'raw',
  requestPrefix: Buffer.alloc(0),
  requestSuffix: Buffer.from('\n'),
  refusalNeedle: null,
  handshake: async () => Buffer.alloc(0),
};

/** Baseline (b): IRC (ngircd): NICK/USER, wait for 001, JOIN, wait for the end of NAMES (366). */
export const ircDialect: Dialect = {
  name: 'irc',
  requestPrefix: Buffer.from(`PRIVMSG ${BENCH_CHANNEL} :`),
  requestSuffix: Buffer.from('\r\n'),
  refusalNeedle: 'ERROR :',
  handshake(connection, user, timeoutMs) {
    const socket = connection.socket;
    socket.write(`NICK ${user}\r\nUSER ${user} 0 * :chatlab bench\r\n`);
    let joined = false;
    return readLinesUntil(connection, timeoutMs, `IRC registration and JOIN of ${user}`, (line) => {
      if (line.startsWith('PING ')) socket.write(`PONG ${line.slice(5)}\r\n`);
      if (line.startsWith('ERROR')) throw new Error(`ngircd refused ${user}: ${line}`);
      const numeric = line.split(' ')[1];
      if (numeric === '001' && !joined) {
        joined = true;
        socket.write(`JOIN ${BENCH_CHANNEL}\r\n`);
      }
      if (numeric && /^4\d\d$/.test(numeric) && numeric !== '422') {
        throw new Error(`ngircd refused ${user}: ${line}`);
      }
      return numeric === '366';
    });
  },
};

/** The chatlab server: wait for `hello`, `login`, wait for `welcome` (everyone starts in lobby). */
export const chatlabDialect: Dialect = {
  name: 'chatlab',
  requestPrefix: Buffer.from('{"type":"say","text":"'),
  requestSuffix: Buffer.from('"}\n'),
  refusalNeedle: '"type":"error"',
  handshake(connection, user, timeoutMs) {
    let helloSeen = false;
    return readLinesUntil(connection, timeoutMs, `hello and welcome for ${user}`, (line) => {
      if (!line.trim()) return false;
      const frame = JSON.parse(line) as { type?: string; code?: string; message?: string };
      if (frame.type === 'hello' && !helloSeen) {
        helloSeen = true;
        connection.socket.write(JSON.stringify({ type: 'login', user, password: BENCH_PASSWORD }) + '\n');
        return false;
      }
      if (frame.type === 'error') {
        throw new Error(`chatlab refused ${user}: ${frame.code}: ${frame.message}`);
      }
      return frame.type === 'welcome';
    });
  },
};
