/**
 * An error the CLI reports as one plain line (no stack trace) before exiting non-zero.
 * Throw it for anything the user can fix: a bad flag, a missing file, a busy port.
 */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = 1,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** " (host:port)" of a socket error, or nothing when the error does not say (one from a worker thread). */
function addressOf(error: Error): string {
  const { address, port } = error as { address?: string; port?: number };
  return address !== undefined && port !== undefined ? ` (${address}:${port})` : '';
}

/** Turns any thrown value into the one line the CLI prints. */
export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') return `address already in use${addressOf(error)}: is another server running? Pick another --port.`;
    if (code === 'ECONNREFUSED') return `connection refused${addressOf(error)}: is the server running?`;
    if (code === 'EACCES') return `permission denied: ${error.message}`;
    return error.message;
  }
  return String(error);
}
