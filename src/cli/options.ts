/**
 * The values chatlab's options take, parsed one way for every command: ports, host:port,
 * positive whole numbers, durations and files. Each parser is a commander argument parser: it
 * returns the value, or throws commander's `InvalidArgumentError`, which commander prints as one
 * line naming the option (`error: option '--port <port>' argument '70000' is invalid. ...`).
 */
import { readFileSync } from 'node:fs';
import { InvalidArgumentError } from 'commander';
import { CliError } from './errors.ts';

/** The highest TCP port. */
const MAX_PORT = 65_535;

/** A TCP port (0 = any free port). */
export function parsePort(value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > MAX_PORT) {
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

/** `host:port` (an IPv6 address in brackets: `[::1]:7070`); the port from 1 to 65535. */
export function parseHostPort(value: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(value);
  const port = match ? Number(match[3]) : Number.NaN;
  if (!match || port < 1 || port > MAX_PORT) {
    throw new InvalidArgumentError(`"${value}" is not host:port (for example 127.0.0.1:7070).`);
  }
  return { host: (match[1] ?? match[2]) as string, port };
}

/** Where to listen: a port (on the default host), or `host:port`. */
export function parseListen(value: string): { host?: string; port: number } {
  return value.includes(':') ? parseHostPort(value) : { port: parsePort(value) };
}

/** A positive whole number (a count, a size in bytes). */
export function parsePositiveInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || !Number.isSafeInteger(n)) {
    throw new InvalidArgumentError(`"${value}" is not a positive whole number.`);
  }
  return n;
}

/**
 * A parser for a delay in whole milliseconds, from 0 (no delay) to `max`.
 * @example `.option('--pace <ms>', '...', millisecondsUpTo(60_000), 700)`
 */
export function millisecondsUpTo(max: number = Number.MAX_SAFE_INTEGER): (value: string) => number {
  const range = max === Number.MAX_SAFE_INTEGER ? '' : ` (0 to ${max})`;
  return function parseMilliseconds(value: string): number {
    const ms = Number(value);
    if (!/^\d+$/.test(value) || ms > max) throw new InvalidArgumentError(`"${value}" is not a whole number of milliseconds${range}.`);
    return ms;
  };
}

/**
 * A parser for a timeout in seconds (decimals allowed): more than 0, at most `max`.
 * @example `.option('--timeout <seconds>', '...', secondsUpTo(600), 5)`
 */
export function secondsUpTo(max: number): (value: string) => number {
  return function parseSeconds(value: string): number {
    const seconds = Number(value);
    if (!/^\d+(\.\d+)?$/.test(value) || seconds <= 0 || seconds > max) {
      throw new InvalidArgumentError(`"${value}" is not a number of seconds (more than 0, at most ${max}).`);
    }
    return seconds;
  };
}

/**
 * Reads the file an option names (a certificate, a key).
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
