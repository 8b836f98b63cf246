import { createSecureContext } from 'node:tls';

/** A TLS certificate (chain) and its private key, in PEM. */
export interface TlsCredentials {
  /** The certificate, then any intermediates, PEM. */
  cert: string | Buffer;
  /** The certificate's private key, PEM (unencrypted). */
  key: string | Buffer;
}

/** The certificate or key cannot be used; the message says which and why, in one line. */
export class TlsCredentialsError extends Error {
  constructor(
    /** What is wrong: the certificate, the key, or the two together. */
    readonly part: 'cert' | 'key' | 'pair',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'TlsCredentialsError';
  }
}

/**
 * Checks the certificate and the key one at a time, then together, so a bad file is named
 * instead of OpenSSL's `error:1E08010C:DECODER routines::unsupported`.
 * @throws TlsCredentialsError
 */
export function checkTlsCredentials(credentials: TlsCredentials): void {
  attempt(() => createSecureContext({ cert: credentials.cert }), 'cert', 'the TLS certificate is not a PEM certificate');
  attempt(() => createSecureContext({ key: credentials.key }), 'key', 'the TLS key is not an unencrypted PEM private key');
  attempt(() => createSecureContext(credentials), 'pair', 'the TLS key does not belong to the certificate');
}

function attempt<T>(make: () => T, part: TlsCredentialsError['part'], what: string): T {
  try {
    return make();
  } catch (error) {
    const reason = (error as Error).message.replace(/^error:[0-9A-F]+:/, '').replace(/::/, ': ');
    throw new TlsCredentialsError(part, `${what} (${reason})`, { cause: error });
  }
}
