import { readFileSync } from 'node:fs';

/** Where Linux keeps the largest listen backlog it grants (`net.core.somaxconn`). */
export const SOMAXCONN_PATH = '/proc/sys/net/core/somaxconn';

/**
 * The backlog asked for where the OS does not tell its maximum. The kernel silently caps a
 * larger request at its own maximum, so asking for more than it grants costs nothing.
 */
export const FALLBACK_LISTEN_BACKLOG = 4096;

/**
 * The default listen backlog: the OS maximum. Node's own default (511) is the queue of
 * connections the kernel completed but the server has not accepted yet; a burst of a few
 * thousand connects overflows it, and the overflow hangs (SYN cookies complete the handshake on
 * the client's side, so it thinks it is connected and waits for a `hello` that never comes).
 * @param path where to read the maximum (tests point it elsewhere)
 */
export function defaultListenBacklog(path: string = SOMAXCONN_PATH): number {
  try {
    const value = Number(readFileSync(path, 'utf8').trim());
    return Number.isSafeInteger(value) && value > 0 ? value : FALLBACK_LISTEN_BACKLOG;
  } catch {
    return FALLBACK_LISTEN_BACKLOG;
  }
}
