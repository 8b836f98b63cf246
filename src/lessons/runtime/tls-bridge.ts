import net from 'node:net';
import tls from 'node:tls';
import { listenRelay, splice, track, type Relay, type RelayTarget } from './relay.ts';

/**
 * TLS bridges for lessons whose programs speak TLS (lesson 13), so the plain-TCP verifier can
 * check them: a terminator in front of a TLS server (the verifier talks plain text to it, it
 * talks TLS to the server) and a front for a TLS client (the client talks TLS to it, it talks
 * plain text to the verifier). Both pass the bytes on as they come, read by read, and pass on
 * each side's close: a FIN as a FIN, an abrupt drop as an abrupt drop.
 */
export type TlsBridge = Relay;

/** The server end of a TLS bridge: where it forwards each connection to. */
export type BridgeTarget = RelayTarget;

/**
 * Listens for plain TCP and forwards each connection over TLS to `target`, trusting only the
 * certificate `ca` (the lesson's own, as its client does). The verifier checks a TLS lesson
 * server through it.
 */
export async function startTlsTerminator(options: { target: BridgeTarget; ca: Buffer }): Promise<TlsTerminator> {
  const sockets = new Set<net.Socket>();
  const handshakeErrors: string[] = [];
  const server = net.createServer({ allowHalfOpen: true }, (plain) => {
    track(sockets, plain);
    const secure = tls.connect({ host: options.target.host, port: options.target.port, ca: options.ca });
    track(sockets, secure);
    // Before the handshake is done, an error means the server does not speak TLS (or not with this certificate).
    let secured = false;
    secure.once('secureConnect', () => (secured = true));
    secure.once('error', (error: NodeJS.ErrnoException) => {
      if (!secured && handshakeErrors.length < MAX_HANDSHAKE_ERRORS) handshakeErrors.push(error.code ?? error.message);
    });
    splice(plain, secure);
  });
  return Object.assign(await listenRelay(server, sockets), { handshakeErrors });
}

/** How many failed handshakes a terminator remembers (the first say enough). */
const MAX_HANDSHAKE_ERRORS = 8;

/** A {@link startTlsTerminator} bridge, which also tells of handshakes with the server that failed. */
export interface TlsTerminator extends TlsBridge {
  /** The error codes of TLS handshakes with the server that failed (e.g. `ERR_SSL_WRONG_VERSION_NUMBER`: it answered in plain text). */
  readonly handshakeErrors: readonly string[];
}

/**
 * Listens for TLS with `key` and `cert` and forwards each connection, decrypted, over plain TCP
 * to `target`. The verifier, listening at `target`, checks a TLS lesson client through it.
 */
export function startTlsFront(options: { target: BridgeTarget; key: Buffer; cert: Buffer }): Promise<TlsBridge> {
  const sockets = new Set<net.Socket>();
  const server = tls.createServer({ key: options.key, cert: options.cert, allowHalfOpen: true }, (secure) => {
    track(sockets, secure);
    const plain = track(sockets, net.connect({ host: options.target.host, port: options.target.port, allowHalfOpen: true }));
    splice(secure, plain);
  });
  // A client that fails the handshake is that client's problem, shown by its own output.
  server.on('tlsClientError', () => {});
  return listenRelay(server, sockets);
}
