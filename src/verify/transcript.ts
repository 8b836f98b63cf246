import type { RawFrame, ReadSpan } from '../protocol/index.ts';
import { showBytes } from './bytes.ts';

/** Something that happened on one of the verifier's connections (or, in --client mode, on the client's stdio). */
export type TranscriptEvent =
  | { seq: number; atMs: number; conn: string; kind: 'connect' }
  /** Bytes the verifier wrote: one frame (or raw bytes), in `writes` separate TCP writes. */
  | { seq: number; atMs: number; conn: string; kind: 'send'; raw: Buffer; frame?: RawFrame; writes: number; frames: number }
  /** One TCP read, as it came (`index` is 1-based per connection); frames refer to reads by index. */
  | { seq: number; atMs: number; conn: string; kind: 'read'; raw: Buffer; index: number }
  /** A frame (or a line that is not one: `problem`) the verifier received, and which reads held it. */
  | { seq: number; atMs: number; conn: string; kind: 'recv'; raw: Buffer; frame?: RawFrame; problem?: string; reads: ReadSpan }
  | { seq: number; atMs: number; conn: string; kind: 'close'; by: 'peer' | 'verifier'; detail: string }
  /** --client mode: a line the verifier typed on the client's stdin, or one the client printed. */
  | { seq: number; atMs: number; conn: string; kind: 'stdin' | 'stdout'; text: string }
  | { seq: number; atMs: number; conn: string; kind: 'note'; text: string };

type EventInput = TranscriptEvent extends infer E ? (E extends TranscriptEvent ? Omit<E, 'seq' | 'atMs'> : never) : never;

type ToJson<E> = E extends { raw: Buffer } ? Omit<E, 'raw'> & { raw: string } : E;

/** The JSON form of an event: bytes become their exact rendering (see showBytes). */
export type TranscriptEventJson = ToJson<TranscriptEvent>;

/**
 * The ordered log of everything exchanged during a run, across all connections. Checks read it
 * to point at the frame that went wrong; reporters draw it as a sequence diagram.
 */
export class Transcript {
  readonly events: TranscriptEvent[] = [];
  private readonly startedAt = performance.now();

  /** Appends an event; returns it (with its sequence number). */
  add(event: EventInput): TranscriptEvent {
    const full = { seq: this.events.length + 1, atMs: Math.round((performance.now() - this.startedAt) * 10) / 10, ...event } as TranscriptEvent;
    this.events.push(full);
    return full;
  }

  /** The log in JSON-friendly form. */
  toJSON(): TranscriptEventJson[] {
    return this.events.map((event) => ('raw' in event ? { ...event, raw: showBytes(event.raw, 2000) } : event) as TranscriptEventJson);
  }
}
