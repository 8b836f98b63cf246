/**
 * The page's end of a diagram feed (/wire): the rows and lifelines of this browser session's
 * wire, as the inspector's SessionModel on the server side made them, kept in reactive arrays
 * for the SequenceDiagram component.
 */
import { reactive } from 'vue';
import type { DiagramLifeline, DiagramRow, DiagramUpdate } from '../diagram-row.ts';

/** Rows the page keeps (the server's model keeps as many). */
const MAX_ROWS = 2_000;

/** A live diagram feed. */
export class WireFeedClient {
  readonly state = reactive({ lifelines: [] as DiagramLifeline[], rows: [] as DiagramRow[], closed: '' });
  private readonly ws: WebSocket;

  constructor(url: string) {
    this.ws = new WebSocket(url);
    this.ws.addEventListener('message', this.onMessage);
    this.ws.addEventListener('close', this.onClose);
  }

  private readonly onMessage = (event: MessageEvent): void => {
    const update = JSON.parse(String(event.data)) as DiagramUpdate;
    if (update.lifelines) this.state.lifelines = update.lifelines;
    const known = this.state.rows.length > 0 ? (this.state.rows[this.state.rows.length - 1] as DiagramRow).id : 0;
    const fresh = update.rows.filter((row) => row.id > known);
    this.state.rows.push(...fresh);
    if (this.state.rows.length > MAX_ROWS) this.state.rows.splice(0, this.state.rows.length - MAX_ROWS);
  };

  private readonly onClose = (event: CloseEvent): void => {
    this.state.closed = event.reason || 'the diagram feed closed';
  };

  close(): void {
    this.ws.close();
  }
}
