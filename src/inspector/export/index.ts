import type { WireEvent } from '../events.ts';
import { withFraming } from '../replay.ts';
import { SessionModel } from '../session-model.ts';
import { exportMermaid } from './mermaid.ts';
import { exportSvg } from './svg.ts';
import { exportText } from './text.ts';

/** The formats `chatlab inspect export` writes. */
export type ExportFormat = 'mermaid' | 'svg' | 'text';

/** Every export format, in help-text order. */
export const EXPORT_FORMATS: readonly ExportFormat[] = ['mermaid', 'svg', 'text'];

/** Options of {@link exportModel}. */
export interface ExportOptions {
  /** Mermaid only: wrap in a ```mermaid fence. */
  fenced?: boolean;
}

/** Renders a model in one format. */
export function exportModel(model: SessionModel, format: ExportFormat, options: ExportOptions = {}): string {
  switch (format) {
    case 'mermaid':
      return exportMermaid(model, { fenced: options.fenced });
    case 'svg':
      return exportSvg(model);
    case 'text':
      return exportText(model);
  }
}

/** Replays recorded events into a fresh model (framing as recorded, unless overridden). */
export function modelFromEvents(events: Iterable<WireEvent>, options: { framing?: SessionModel['framing']; showReads?: boolean } = {}): SessionModel {
  const model = new SessionModel({ framing: options.framing, showReads: options.showReads });
  for (const event of events) model.apply(withFraming(event, options.framing));
  return model;
}

export { exportMermaid, exportSvg, exportText };
export { DEFAULT_EXPORT_DIR, exportStamp, writeSessionExports } from './session-files.ts';
