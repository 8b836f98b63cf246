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
export function startTlsTerminator(options: { target: BridgeTarget; ca: Buffer }): Promise<TlsBridge> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ allowHalfOpen: true }, (plain) => {
    track(sockets, plain);
    const secure = track(sockets, tls.connect({ host: options.target.host, port: options.target.port, ca: options.ca }));
    splice(plain, secure);
  });
  return listenRelay(server, sockets);
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
