/**
 * The messages server nodes of a cluster exchange on the backplane's one channel: a one-line JSON
 * header, `\n`, then (for a relayed frame) the frame bytes exactly as encoded once by the sending
 * node. One channel keeps every message of a node in the order it was published, so a presence
 * never overtakes the membership change it is about, and one sender's frames stay in order.
 *
 * The messages a node publishes in one event-loop turn (a batch of relays answered by one Redis
 * reply) travel as ONE bus message of kind `many`: its header lists their lengths, and its body is
 * those messages, each exactly as it would travel alone, one after another. Every node
 * understands both forms; a node of an older version (before `many`) ignores a `many`, so every
 * node of a cluster must run a version that has it.
 */

import type { ClientFrame } from '../../protocol/index.ts';

/** A user's rooms besides lobby, as a node announces them in a `sync`. */
export type UserRooms = [user: string, rooms: string[]];

/** The header of a backplane message; `n` is the incarnation of the node that published it. */
export type BusHeader =
  /** A user logged in on node `n`: reachable there from now on (published once the user is in that node's hub; listed only at `listed`). */
  | { n: string; k: 'on'; u: string }
  /**
   * A user of node `n` is listed from now on (in welcomes, `who`, `rooms`): published right after
   * its `presence online`, in the same turn; until then it is reachable (`on`) but not listed.
   */
  | { n: string; k: 'listed'; u: string }
  /** A user of node `n` logged out (published by the release script). */
  | { n: string; k: 'off'; u: string }
  /** A user of node `n` entered (`in`) or left (`out`) room `r`. */
  | { n: string; k: 'in' | 'out'; u: string; r: string }
  /** Node `n`'s lease ran out: its users `u` are gone (published by whichever node reaped it). */
  | { n: string; k: 'dead'; u: string[] | Record<string, never> }
  /** Everyone node `n` holds now, with their rooms (after the shared store came back). */
  | { n: string; k: 'sync'; u: UserRooms[] }
  /** A frame for the local members of room `r` (lobby: everyone) on every other node. */
  | { n: string; k: 'r'; r: string }
  /** A frame for these users, wherever they are logged in. */
  | { n: string; k: 'u'; u: string[] }
  /** A file frame `f` of user `u` (on node `n`) for transfer relayed by node `o`. */
  | { n: string; k: 'f'; o: string; u: string; f: ClientFrame & { transfer: string } }
  /** A new account `u` exists (other nodes add it to their copy of the names). */
  | { n: string; k: 'acct'; u: string }
  /** Several messages of node `n`, in order, of these byte lengths (see the module comment). */
  | { n: string; k: 'many'; l: number[] };

/** Encodes a header and optional frame bytes as one message (the frame bytes copied once). */
export function encodeBusMessage(header: BusHeader, frame?: Buffer): Buffer {
  const head = Buffer.from(`${JSON.stringify(header)}\n`);
  return frame ? Buffer.concat([head, frame], head.length + frame.length) : head;
}

/** Splits a message into its header and frame bytes (a view, not a copy); undefined if malformed. */
export function decodeBusMessage(message: Buffer): { header: BusHeader; frame: Buffer } | undefined {
  const end = message.indexOf(10);
  if (end < 0) return undefined;
  try {
    const header = JSON.parse(message.toString('utf8', 0, end)) as BusHeader;
    if (typeof header !== 'object' || header === null || typeof header.n !== 'string') return undefined;
    return { header, frame: message.subarray(end + 1) };
  } catch {
    return undefined;
  }
}

/** Joins messages of node `incarnation` (each made by {@link encodeBusMessage}) into one `many` message. */
export function encodeBusBatch(incarnation: string, messages: readonly Buffer[]): Buffer {
  const head = Buffer.from(`${JSON.stringify({ n: incarnation, k: 'many', l: messages.map((message) => message.length) })}\n`);
  return Buffer.concat([head, ...messages]);
}

/** The messages a `many` message carries (views, in order); undefined if its lengths do not match its body. */
export function splitBusBatch(lengths: unknown, body: Buffer): Buffer[] | undefined {
  if (!Array.isArray(lengths)) return undefined;
  const messages: Buffer[] = [];
  let start = 0;
  for (const length of lengths) {
    if (!Number.isSafeInteger(length) || length <= 0 || start + length > body.length) return undefined;
    messages.push(body.subarray(start, start + length));
    start += length;
  }
  return start === body.length ? messages : undefined;
}
