import type { Direction } from '../protocol/index.ts';
import type { WireEvent } from './events.ts';

type GapEvent = Extract<WireEvent, { kind: 'gap' }>;

/**
 * Bounds the bytes of `data` (and `datagram`) events waiting to be decoded. Past the bound, new data is counted
 * instead of passed on, and the count comes out as one `gap` event per direction, ahead of that
 * connection's next event that is passed on. The proxy thread (proxy-worker.ts) bounds what it
 * ships to the main thread with it, so the diagram falling behind never slows the chat.
 */
export class GapTracker {
  private inFlight = 0;
  private readonly gaps = new Map<string, { conn: number; dir: Direction; bytes: number }>();

  constructor(private readonly maxBytes: number) {}

  /** Some skipped bytes are not reported yet. */
  get pending(): boolean {
    return this.gaps.size > 0;
  }

  /**
   * Hands `event` to `pass`, after the gaps it closes (timed at `event.t`); or, for data over the
   * bound, counts its bytes and passes nothing.
   */
  admit(event: WireEvent, pass: (event: WireEvent) => void): void {
    if (event.kind === 'data' || event.kind === 'datagram') {
      const key = gapKey(event.conn, event.dir);
      if (this.inFlight + event.bytes.length > this.maxBytes) {
        const gap = this.gaps.get(key) ?? { conn: event.conn, dir: event.dir, bytes: 0 };
        gap.bytes += event.bytes.length;
        this.gaps.set(key, gap);
        return;
      }
      this.take(key, event.t, pass);
      this.inFlight += event.bytes.length;
    } else if ('conn' in event) {
      this.take(gapKey(event.conn, 'c2s'), event.t, pass);
      this.take(gapKey(event.conn, 's2c'), event.t, pass);
    }
    pass(event);
  }

  /** `bytes` of passed data were decoded: they no longer count against the bound. */
  release(bytes: number): void {
    this.inFlight = Math.max(0, this.inFlight - bytes);
  }

  /** Hands every gap not reported yet to `pass`, timed at `t`. */
  takeAll(t: number, pass: (gap: GapEvent) => void): void {
    for (const key of [...this.gaps.keys()]) this.take(key, t, pass);
  }

  private take(key: string, t: number, pass: (gap: GapEvent) => void): void {
    const gap = this.gaps.get(key);
    if (!gap) return;
    this.gaps.delete(key);
    pass({ kind: 'gap', t, conn: gap.conn, dir: gap.dir, bytes: gap.bytes });
  }
}

function gapKey(conn: number, dir: Direction): string {
  return `${conn}:${dir}`;
}
