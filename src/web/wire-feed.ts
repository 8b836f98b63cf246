import { SessionModel, type WireEvent } from '../inspector/index.ts';
import { DiagramFeed } from './diagram-feed.ts';
import { toDiagramLifeline, toDiagramRow, type DiagramLifeline } from './diagram-row.ts';

export { WIRE_FEED_MAX_ROWS, WIRE_FEED_MAX_BUFFERED_BYTES, CLOSE_FELL_BEHIND } from './diagram-feed.ts';

/**
 * Rows the SessionModel itself keeps: each holds its frame's bytes (a file chunk is ~44 KB), so
 * the feed keeps its own compact copies ({@link DiagramRow}, detail cut short) instead.
 */
const MODEL_MAX_ROWS = 20;

/**
 * The wire of one browser session, as the inspector sees it: the bridge's events feed a
 * {@link SessionModel}, and every diagram socket subscribed to the session gets its rows as
 * {@link DiagramUpdate} JSON — all rows so far when it subscribes, then each new batch.
 */
export class WireFeed extends DiagramFeed {
  readonly model = new SessionModel({ framing: 'chatlab', maxRows: MODEL_MAX_ROWS });
  private lifelineVersion = -1;
  /** The chat socket of this session is open (or was never opened yet). */
  chatOpen = false;

  /** Applies one wire event and sends the rows it added to every subscriber. */
  apply(event: WireEvent): void {
    const rows = this.model.apply(event).map(toDiagramRow);
    if (rows.length === 0 && this.lifelineVersion === this.model.lifelineVersion) return;
    let lifelines: DiagramLifeline[] | undefined;
    if (this.lifelineVersion !== this.model.lifelineVersion) {
      this.lifelineVersion = this.model.lifelineVersion;
      lifelines = this.currentLifelines();
    }
    this.publish(rows, lifelines);
  }

  protected override currentLifelines(): DiagramLifeline[] {
    return this.model.lifelines.map(toDiagramLifeline);
  }
}
