import type { Direction, RawFrame } from '../src/protocol/index.ts';
import type { Endpoint, FramingMode, WireEvent } from '../src/inspector/events.ts';

/**
 * Builds {@link WireEvent} sequences for tests: a tiny DSL with its own clock (each event 10 ms
 * after the last unless told) and per-direction read numbers, so model and view tests can
 * describe a session without any socket.
 */
export class EventScript {
  readonly events: WireEvent[] = [];
  private t: number;
  private readonly reads = new Map<string, number>();

  constructor(
    start = 1_764_000_000_000,
    readonly stepMs = 10,
  ) {
    this.t = start;
  }

  private tick(ms = this.stepMs): number {
    this.t += ms;
    return this.t;
  }

  listening(target: Endpoint = { host: '127.0.0.1', port: 7070 }, framing: FramingMode = 'auto'): this {
    this.events.push({ kind: 'listening', t: this.tick(0), listen: { host: '127.0.0.1', port: 7071 }, target, framing });
    return this;
  }

  /** Client `conn` connects and the server accepts it. */
  connect(conn: number, peer = `127.0.0.1:${50_000 + conn}`): this {
    this.events.push({ kind: 'open', t: this.tick(), conn, peer });
    this.events.push({ kind: 'upstream', t: this.tick(1), conn, local: `127.0.0.1:${60_000 + conn}` });
    return this;
  }

  /** Raw bytes in one read. */
  bytes(conn: number, dir: Direction, bytes: Buffer | string, gapMs?: number): this {
    const key = `${conn}:${dir}`;
    const read = (this.reads.get(key) ?? 0) + 1;
    this.reads.set(key, read);
    this.events.push({ kind: 'data', t: this.tick(gapMs), conn, dir, read, bytes: Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes, 'utf8') });
    return this;
  }

  /** One frame from the client, in one read. */
  c2s(conn: number, frame: RawFrame): this {
    return this.bytes(conn, 'c2s', JSON.stringify(frame) + '\n');
  }

  /** One frame from the server, in one read. */
  s2c(conn: number, frame: RawFrame): this {
    return this.bytes(conn, 's2c', JSON.stringify(frame) + '\n');
  }

  /** `dir`'s sender half-closes. */
  fin(conn: number, dir: Direction): this {
    this.events.push({ kind: 'end', t: this.tick(), conn, dir });
    return this;
  }

  /** A socket closes (with an error code for a reset). */
  close(conn: number, side: 'client' | 'server', error?: string): this {
    this.events.push({ kind: 'close', t: this.tick(1), conn, side, ...(error ? { error, reset: true } : {}) });
    return this;
  }

  /** A full graceful close: client FIN, server FIN, both sockets closed. */
  closeBoth(conn: number): this {
    return this.fin(conn, 'c2s').fin(conn, 's2c').close(conn, 'server').close(conn, 'client');
  }
}

/**
 * The reference 10-step session used across tests: alice (one wrong password first) and bob
 * log in, alice says hello with an emoji, bob quits (bye, offline), both close.
 */
export function tenStepSession(): EventScript {
  const s = new EventScript().listening();
  s.connect(1).s2c(1, { type: 'hello', protocol: 'chatlab/1' });
  s.c2s(1, { type: 'login', user: 'alice', password: 'oops' }).s2c(1, { type: 'error', code: 'auth_failed', message: 'wrong user or password' });
  s.c2s(1, { type: 'login', user: 'alice', password: 'wonderland' }).s2c(1, { type: 'welcome', user: 'alice', users: ['alice'] });
  s.connect(2).s2c(2, { type: 'hello', protocol: 'chatlab/1' });
  s.c2s(2, { type: 'login', user: 'bob', password: 'builder' }).s2c(2, { type: 'welcome', user: 'bob', users: ['alice', 'bob'] });
  s.s2c(1, { type: 'presence', user: 'bob', status: 'online' });
  s.c2s(1, { type: 'say', text: 'hello 👋', id: 1 });
  s.s2c(2, { type: 'message', from: 'alice', text: 'hello 👋', ts: 1_764_000_000_100 }).s2c(1, { type: 'ok', id: 1 });
  s.c2s(2, { type: 'quit' }).s2c(2, { type: 'bye' }).s2c(1, { type: 'presence', user: 'bob', status: 'offline' });
  s.closeBoth(2);
  s.c2s(1, { type: 'quit' }).s2c(1, { type: 'bye' });
  s.closeBoth(1);
  return s;
}

/** One TLS record as it crosses the wire: type, legacy version 03 03 (or 03 `minor`), length, body. */
export function tlsRecord(type: number, body: Buffer | number, minor = 0x03): Buffer {
  const content = typeof body === 'number' ? Buffer.alloc(body, 0xa5) : body;
  return Buffer.concat([Buffer.from([type, 0x03, minor, content.length >> 8, content.length & 0xff]), content]);
}

/** One handshake message (type, 3-byte length, `bodyBytes` filler bytes), to put in a handshake record. */
export function tlsHandshakeMessage(type: number, bodyBytes: number): Buffer {
  return Buffer.concat([Buffer.from([type, bodyBytes >> 16, (bodyBytes >> 8) & 0xff, bodyBytes & 0xff]), Buffer.alloc(bodyBytes, 0x42)]);
}

/**
 * Lesson 13 in miniature: connection 1 speaks TLS 1.3 (ClientHello, the server's flight,
 * the client's Finished, a frame each way as application data, FINs); connection 2 types a
 * login in clear, and the TLS server hangs up on it.
 */
export function tlsSession(): EventScript {
  const s = new EventScript().listening();
  s.connect(1);
  s.bytes(1, 'c2s', tlsRecord(0x16, tlsHandshakeMessage(1, 340), 0x01));
  s.bytes(1, 's2c', Buffer.concat([tlsRecord(0x16, tlsHandshakeMessage(2, 118)), tlsRecord(0x14, Buffer.from([1])), tlsRecord(0x17, 23), tlsRecord(0x17, 525)]));
  s.bytes(1, 'c2s', Buffer.concat([tlsRecord(0x14, Buffer.from([1])), tlsRecord(0x17, 69)]));
  s.bytes(1, 's2c', Buffer.concat([tlsRecord(0x17, 68), tlsRecord(0x17, 68)]));
  s.bytes(1, 'c2s', tlsRecord(0x17, 73));
  s.connect(2).c2s(2, { type: 'login', user: 'dave', password: 'davesecret' });
  s.fin(2, 's2c').fin(2, 'c2s').close(2, 'server').close(2, 'client');
  s.bytes(1, 'c2s', tlsRecord(0x17, 19));
  s.closeBoth(1);
  return s;
}
