import type { WebSocket } from 'ws';
import type { DiagramLifeline, DiagramRow, DiagramUpdate } from './diagram-row.ts';

/** Rows a diagram feed keeps for a tab opened late (older ones are dropped). */
export const WIRE_FEED_MAX_ROWS = 2_000;
/** A diagram tab with this many bytes unread is closed (it may reconnect and get the rows so far). */
export const WIRE_FEED_MAX_BUFFERED_BYTES = 4 * 1024 * 1024;
/** WebSocket close code for a diagram tab that fell behind ("try again later"). */
export const CLOSE_FELL_BEHIND = 1013;

/**
 * Diagram rows broadcast to any number of WebSocket tabs as {@link DiagramUpdate} JSON: a tab gets
 * every row kept so far when it subscribes, then each new batch, encoded once for all tabs. A tab
 * that stops reading is closed rather than buffered for ever. What feeds it (one browser session's
 * bridge, or the inspector's model) is the subclass's business.
 */
export class DiagramFeed {
  /** The rows so far, as pages get them (at most {@link WIRE_FEED_MAX_ROWS}). */
  readonly rows: DiagramRow[] = [];
  private readonly subscribers = new Set<WebSocket>();

  /** Subscribers at the moment. */
  get subscriberCount(): number {
    return this.subscribers.size;
  }

  /** The lifelines a new subscriber starts with. */
  protected currentLifelines(): DiagramLifeline[] {
    return [];
  }

  /** Keeps `rows` and sends them (and `lifelines`, when they changed) to every subscriber. */
  protected publish(rows: DiagramRow[], lifelines: DiagramLifeline[] | undefined): void {
    this.rows.push(...rows);
    if (this.rows.length > WIRE_FEED_MAX_ROWS) this.rows.splice(0, this.rows.length - WIRE_FEED_MAX_ROWS + WIRE_FEED_MAX_ROWS / 10);
    const update: DiagramUpdate = { rows };
    if (lifelines) update.lifelines = lifelines;
    const json = JSON.stringify(update);
    for (const socket of this.subscribers) this.sendTo(socket, json);
  }

  /** Everything so far, as a new subscriber gets it: the lifelines and the rows kept. */
  snapshot(): Required<DiagramUpdate> {
    return { lifelines: this.currentLifelines(), rows: this.rows };
  }

  /** Adds a diagram socket: it gets everything so far now, and each new batch later. */
  subscribe(socket: WebSocket): void {
    this.subscribers.add(socket);
    socket.once('close', () => this.subscribers.delete(socket));
    this.sendTo(socket, JSON.stringify(this.snapshot()));
  }

  private sendTo(socket: WebSocket, json: string): void {
    if (socket.bufferedAmount > WIRE_FEED_MAX_BUFFERED_BYTES) {
      this.subscribers.delete(socket);
      socket.close(CLOSE_FELL_BEHIND, 'the diagram fell behind; reload to catch up');
      return;
    }
    socket.send(json);
  }

  /** Closes every diagram socket (the server is stopping). */
  closeAll(): void {
    for (const socket of this.subscribers) socket.close(1001, 'the server is stopping');
    this.subscribers.clear();
  }
}
