import type { EventSink, Row, SessionModel, WireEvent } from '../inspector/index.ts';
import { DiagramFeed } from './diagram-feed.ts';
import { SessionTrace } from './session-trace.ts';
import { toDiagramLifeline, toDiagramRow, type DiagramLifeline } from './diagram-row.ts';

/**
 * The inspector's model as a diagram feed (`chatlab inspect --web`): an {@link EventSink} that
 * hands the rows the inspector's SessionModel adds, and its lifelines when they change, to every
 * browser tab. Given to startInspector before the model exists, so {@link attach} names the model
 * afterwards; rows applied before that are kept and reach every tab. It also keeps the session as
 * a trace ({@link trace}) for the page's JSONL export.
 */
export class InspectorFeed extends DiagramFeed implements EventSink {
  /** Every event so far as `--record` would write it (the page's JSONL export). */
  readonly trace = new SessionTrace();
  private model: SessionModel | undefined;
  private lifelineVersion = -1;

  /** The inspector's model once {@link attach}ed (what the page's SVG/Mermaid exports and frame details are made of). */
  get session(): SessionModel | undefined {
    return this.model;
  }

  /** The inspector's model, whose lifelines the tabs draw. */
  attach(model: SessionModel): void {
    this.model = model;
    this.publish([], this.changedLifelines());
  }

  applied(event: WireEvent, rows: Row[]): void {
    this.trace.applied(event, rows);
    const lifelines = this.changedLifelines();
    if (rows.length === 0 && !lifelines) return;
    this.publish(rows.map(toDiagramRow), lifelines);
  }

  protected override currentLifelines(): DiagramLifeline[] {
    return this.model ? this.model.lifelines.map(toDiagramLifeline) : [];
  }

  private changedLifelines(): DiagramLifeline[] | undefined {
    if (!this.model || this.model.lifelineVersion === this.lifelineVersion) return undefined;
    this.lifelineVersion = this.model.lifelineVersion;
    return this.currentLifelines();
  }

  /** The tabs stay open when the session is over (they show it); {@link closeAll} closes them. */
  finish(): Promise<void> {
    return Promise.resolve();
  }
}
