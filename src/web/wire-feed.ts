import type { WebSocket } from 'ws';
import { SessionModel, type WireEvent } from '../inspector/index.ts';
import { toDiagramLifeline, toDiagramRow, type DiagramRow, type DiagramUpdate } from './diagram-row.ts';

/** Rows one browser session's diagram keeps for a diagram tab opened late (older ones are dropped). */
export const WIRE_FEED_MAX_ROWS = 2_000;
/**
 * Rows the SessionModel itself keeps: each holds its frame's bytes (a file chunk is ~44 KB), so
 * the feed keeps its own compact copies ({@link DiagramRow}, detail cut short) instead.
 */
const MODEL_MAX_ROWS = 20;
/** A diagram tab with this many bytes unread is closed (it may reconnect and get the rows so far). */
export const WIRE_FEED_MAX_BUFFERED_BYTES = 4 * 1024 * 1024;
/** WebSocket close code for a diagram tab that fell behind ("try again later"). */
export const CLOSE_FELL_BEHIND = 1013;

/**
 * The wire of one browser session, as the inspector sees it: the bridge's events feed a
 * {@link SessionModel}, and every diagram socket subscribed to the session gets its rows as
 * {@link DiagramUpdate} JSON — all rows so far when it subscribes, then each new batch.
 */
export class WireFeed {
  readonly model = new SessionModel({ framing: 'chatlab', maxRows: MODEL_MAX_ROWS });
  /** The rows so far, as pages get them (at most {@link WIRE_FEED_MAX_ROWS}). */
  readonly rows: DiagramRow[] = [];
  private readonly subscribers = new Set<WebSocket>();
  private lifelineVersion = -1;
  /** The chat socket of this session is open (or was never opened yet). */
  chatOpen = false;

  /** Subscribers at the moment. */
  get subscriberCount(): number {
    return this.subscribers.size;
  }

  /** Applies one wire event and sends the rows it added to every subscriber. */
  apply(event: WireEvent): void {
    const rows = this.model.apply(event).map(toDiagramRow);
    if (rows.length === 0 && this.lifelineVersion === this.model.lifelineVersion) return;
    this.rows.push(...rows);
    if (this.rows.length > WIRE_FEED_MAX_ROWS) this.rows.splice(0, this.rows.length - WIRE_FEED_MAX_ROWS + WIRE_FEED_MAX_ROWS / 10);
    const update: DiagramUpdate = { rows };
    if (this.lifelineVersion !== this.model.lifelineVersion) {
      this.lifelineVersion = this.model.lifelineVersion;
      update.lifelines = this.model.lifelines.map(toDiagramLifeline);
    }
    const json = JSON.stringify(update);
    for (const socket of this.subscribers) this.sendTo(socket, json);
  }

  /** Adds a diagram socket: it gets everything so far now, and each new batch later. */
  subscribe(socket: WebSocket): void {
    this.subscribers.add(socket);
    socket.once('close', () => this.subscribers.delete(socket));
    const update: DiagramUpdate = { lifelines: this.model.lifelines.map(toDiagramLifeline), rows: this.rows };
    this.sendTo(socket, JSON.stringify(update));
  }

  private sendTo(socket: WebSocket, json: string): void {
    if (socket.bufferedAmount > WIRE_FEED_MAX_BUFFERED_BYTES) {
      this.subscribers.delete(socket);
      socket.close(CLOSE_FELL_BEHIND, 'the diagram fell behind; reload to catch up');
      return;
    }
    socket.send(json);
  }

  /** Closes every diagram socket (the web server is stopping). */
  closeAll(): void {
    for (const socket of this.subscribers) socket.close(1001, 'chatlab web is stopping');
    this.subscribers.clear();
  }
}
