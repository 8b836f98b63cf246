import { SessionModel, type WireEvent } from '../inspector/index.ts';
import { WIRE_FEED_MAX_ROWS } from './diagram-feed.ts';
import type { DiagramLifeline, DiagramRow } from './diagram-row.ts';
import { InspectorFeed } from './inspector-feed.ts';

/** A recorded session as the diagram component draws it: what a web inspector tab opened at the end would get. */
export interface RecordedDiagram {
  lifelines: DiagramLifeline[];
  rows: DiagramRow[];
}

/** Thrown when a recording has more rows than a diagram feed keeps: its page would lose the start. */
export class RecordedDiagramTooLongError extends Error {
  constructor(rows: number) {
    super(`the recording has ${rows} diagram rows; a page draws at most ${WIRE_FEED_MAX_ROWS}`);
    this.name = 'RecordedDiagramTooLongError';
  }
}

/**
 * Plays recorded events (a trace.jsonl, see readTrace) into a fresh SessionModel and takes the
 * diagram rows and lifelines from an {@link InspectorFeed} attached to it, exactly as
 * `chatlab inspect --web` feeds its tabs: the docs' recorded diagrams and the live web inspector
 * draw the same rows. At build time, without any socket.
 */
export function recordedDiagram(events: Iterable<WireEvent>): RecordedDiagram {
  const model = new SessionModel();
  const feed = new InspectorFeed();
  feed.attach(model);
  let added = 0;
  for (const event of events) {
    const rows = model.apply(event);
    added += rows.length;
    feed.applied(event, rows);
  }
  if (feed.rows.length !== added) throw new RecordedDiagramTooLongError(added);
  return feed.snapshot();
}
