import { readFileSync } from 'node:fs';
import { InvalidArgumentError } from 'commander';

/**
 * An error the CLI reports as one plain line (no stack trace) before exiting non-zero.
 * Throw it for anything the user can fix: a bad flag, a missing file, a busy port.
 */
export class CliError extends Error {
  constructor(message: string, readonly exitCode: number = 1) {
    super(message);
    this.name = 'CliError';
  }
}

/** commander argument parser for a TCP port (0 = any free port). */
export function parsePort(value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65_535) {
    throw new InvalidArgumentError(`"${value}" is not a TCP port (a whole number from 0 to 65535).`);
  }
  return port;
}

/**
 * The port from an environment variable (lessons and the verifier start programs with `PORT`),
 * `fallback` when it is unset or empty.
 * @throws CliError when it is set but not a port.
 */
export function portFromEnv(value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  try {
    return parsePort(value);
  } catch {
    throw new CliError(`PORT=${value} is not a TCP port (a whole number from 0 to 65535); pass --port`);
  }
}

/** commander argument parser for a positive whole number. */
export function parsePositiveInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || !Number.isSafeInteger(n)) {
    throw new InvalidArgumentError(`"${value}" is not a positive whole number.`);
  }
  return n;
}

/** commander argument parser for `host:port`. */
export function parseHostPort(value: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(value);
  const port = match ? Number(match[3]) : NaN;
  if (!match || port < 1 || port > 65_535) {
    throw new InvalidArgumentError(`"${value}" is not host:port (for example 127.0.0.1:7070).`);
  }
  return { host: (match[1] ?? match[2]) as string, port };
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

/**
 * Reads the file a flag names (a certificate, a key).
 * @throws CliError `--flag FILE: cannot read it (no such file)` and the like
 */
export function readFlagFile(flag: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'it is a directory' : (code ?? (error as Error).message);
    throw new CliError(`${flag} ${file}: cannot read it (${why})`);
  }
}
