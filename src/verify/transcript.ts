import type { RawFrame, ReadSpan } from '../protocol/index.ts';
import { showBytes } from './bytes.ts';
import { Recent, type RecentLimits } from './recent.ts';

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

/** What a transcript keeps by default: the last 1,000 events, and at most 2 MiB of their bytes. */
export const TRANSCRIPT_LIMITS: RecentLimits = { items: 1_000, bytes: 2 * 1024 * 1024 };

/** What a transcript dropped to stay within its limits (the oldest events). */
export interface TranscriptOmitted {
  /** Events dropped, TCP reads included. */
  events: number;
  /** Of those, raw TCP `read` events (the diagram does not draw them by default). */
  reads: number;
  /** Bytes those events held. */
  bytes: number;
}

/** Fixed cost of one event against the byte budget, on top of the bytes and text it holds. */
const EVENT_OVERHEAD_BYTES = 64;

function eventBytes(event: EventInput): number {
  return EVENT_OVERHEAD_BYTES + ('raw' in event ? event.raw.length : 0) + ('text' in event ? event.text.length : 0);
}

/**
 * The ordered log of what was exchanged during a run, across all connections. Checks read it
 * to point at the frame that went wrong; reporters draw it as a sequence diagram. It keeps only
 * the most recent events (see {@link TRANSCRIPT_LIMITS}) and counts the ones it dropped, so a
 * peer that never stops sending cannot make the verifier grow without bound.
 */
export class Transcript {
  private readonly kept: Recent<TranscriptEvent>;
  private droppedReads = 0;
  private lastSeq = 0;
  private readonly startedAt = performance.now();

  constructor(limits: RecentLimits = TRANSCRIPT_LIMITS) {
    this.kept = new Recent(limits, (event) => {
      if (event.kind === 'read') this.droppedReads++;
    });
  }

  /** The events kept, oldest first (a copy). */
  get events(): TranscriptEvent[] {
    return this.kept.toArray();
  }

  /** Sequence number of the last event added (0 before the first): events after a mark have a greater `seq`. */
  get seq(): number {
    return this.lastSeq;
  }

  /** What was dropped to stay within the limits (all zero when nothing was). */
  get omitted(): TranscriptOmitted {
    return { events: this.kept.dropped.items, reads: this.droppedReads, bytes: this.kept.dropped.bytes };
  }

  /** Appends an event; returns it (with its sequence number). */
  add(event: EventInput): TranscriptEvent {
    const full = { seq: ++this.lastSeq, atMs: Math.round((performance.now() - this.startedAt) * 10) / 10, ...event } as TranscriptEvent;
    this.kept.push(full, eventBytes(event));
    return full;
  }

  /** The kept events in JSON-friendly form. */
  toJSON(): TranscriptEventJson[] {
    return this.events.map((event) => ('raw' in event ? { ...event, raw: showBytes(event.raw, 2000) } : event) as TranscriptEventJson);
  }
}
