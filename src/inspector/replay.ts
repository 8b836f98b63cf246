import type { FramingMode, WireEvent } from './events.ts';
import type { Row, SessionModel } from './session-model.ts';

/** Options of {@link replayEvents}. */
export interface ReplayOptions {
  /** Playback speed: 1 = as recorded, 2 = twice as fast, 0 = all at once (default 0). */
  speed?: number;
  /** Longest pause between two events, in ms of playback (default 2,000). */
  maxGapMs?: number;
  /** Called with each event's rows after the model applied it. */
  onRows?: (rows: Row[], event: WireEvent) => void;
  /** Stop early when this signal aborts. */
  signal?: AbortSignal;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      signal?.removeEventListener('abort', done);
      clearTimeout(timer);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** `event` as it reads when decoded with `framing` instead of the recorded framing (as is without one). */
export function withFraming(event: WireEvent, framing: FramingMode | undefined): WireEvent {
  return framing && event.kind === 'listening' ? { ...event, framing } : event;
}

/**
 * Plays recorded events into a model, paced by their recorded times (scaled by `speed`, long
 * pauses shortened), so a recording shows up in the very views a live session uses.
 */
export async function replayEvents(events: readonly WireEvent[], model: SessionModel, options: ReplayOptions = {}): Promise<void> {
  const speed = options.speed ?? 0;
  const maxGap = options.maxGapMs ?? 2_000;
  let previous: number | undefined;
  for (const event of events) {
    if (options.signal?.aborted) return;
    if (speed > 0 && previous !== undefined) {
      const wait = Math.min(maxGap, (event.t - previous) / speed);
      if (wait >= 1) await sleep(wait, options.signal);
    }
    previous = event.t;
    const rows = model.apply(event);
    options.onRows?.(rows, event);
  }
}
