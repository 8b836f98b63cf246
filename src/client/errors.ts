import type { RequestId } from '../protocol/index.ts';

/**
 * The server answered a request with an `error` frame (wrong password, rate limit, …), or sent
 * one on its own. `code` is the protocol's error code, `message` the server's sentence.
 */
export class ProtocolError extends Error {
  constructor(
    readonly code: string,
    message: string,
    /** The id of the request it answers, if any. */
    readonly id?: RequestId,
  ) {
    super(message);
    this.name = 'ProtocolError';
  }
}

/** What went wrong on the client's side of the connection. */
export type ClientErrorCode =
  /** Nobody listens on that host and port. */
  | 'connection_refused'
  /** Any other failure to open the connection (unknown host, unreachable network, …). */
  | 'connect_failed'
  /** No connection within the connect timeout, or no `hello` within the hello timeout. */
  | 'connect_timeout'
  /** The TLS handshake failed: the server's certificate is not trusted, or the server does not speak TLS. */
  | 'tls_failed'
  /** No answer to a request within the request timeout. */
  | 'request_timeout'
  /** The connection closed (or was lost) while something was still expected of it. */
  | 'connection_closed'
  /** A method was called on a client whose connection is already closed. */
  | 'not_connected'
  /** The server sent something that is not a valid chatlab/1 frame. */
  | 'bad_server_frame'
  /** A frame to send would exceed the protocol's size limit. */
  | 'frame_too_large'
  /** The socket is congested and the bounded send queue is full. */
  | 'send_queue_full'
  /** The server's `hello` does not list the extension this request needs (see `ChatClient.supports`). */
  | 'unsupported';

/** A failure on the client's side: connecting, timing out, the connection dropping, bad server data. */
export class ClientError extends Error {
  constructor(
    readonly code: ClientErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ClientError';
  }
}

/** Turns a socket error raised while connecting into a {@link ClientError} that says what to do. */
export function connectError(error: NodeJS.ErrnoException, host: string, port: number): ClientError {
  const where = `${host}:${port}`;
  switch (error.code) {
    case 'ECONNREFUSED':
      return new ClientError('connection_refused', `connection refused by ${where}: is a chatlab server running there?`, { cause: error });
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new ClientError('connect_failed', `cannot resolve the host "${host}"`, { cause: error });
    default:
      return new ClientError('connect_failed', `cannot connect to ${where}: ${error.message}`, { cause: error });
  }
}

/** OpenSSL's verdicts on a certificate that cannot be trusted (Node's `error.code`). */
const CERTIFICATE_REJECTED = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** What OpenSSL says when the other side answers a handshake with something that is not TLS. */
const NOT_TLS = new Set(['ERR_SSL_WRONG_VERSION_NUMBER', 'ERR_SSL_PACKET_LENGTH_TOO_LONG', 'ERR_SSL_RECORD_LAYER_FAILURE', 'ERR_SSL_HTTP_REQUEST']);

/**
 * Turns a TLS handshake failure into a {@link ClientError} `tls_failed` that says what to do;
 * undefined for any other error.
 */
export function tlsError(error: NodeJS.ErrnoException, host: string, port: number): ClientError | undefined {
  const where = `${host}:${port}`;
  const code = error.code ?? '';
  if (CERTIFICATE_REJECTED.has(code)) {
    return new ClientError('tls_failed', `TLS: certificate verify failed for ${where} (${error.message}): trust the certificate that signed it (--ca FILE)`, { cause: error });
  }
  if (NOT_TLS.has(code)) {
    return new ClientError('tls_failed', `TLS: ${where} does not speak TLS (it answered in plain text): connect without TLS`, { cause: error });
  }
  if (code.startsWith('ERR_SSL_') || code === 'EPROTO') {
    return new ClientError('tls_failed', `TLS: the handshake with ${where} failed (${error.message.split('\n')[0]})`, { cause: error });
  }
  return undefined;
}
