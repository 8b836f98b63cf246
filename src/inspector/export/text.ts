import type { SessionModel } from '../session-model.ts';
import { diagramTextLines } from '../render/diagram-text.ts';
import { checklistLines, countersLine } from '../render/styles.ts';

/** Options of {@link exportText}. */
export interface TextExportOptions {
  /** ANSI colours (default off: files and pipes). */
  color?: boolean;
  /** Longest summary, in cells (default 120). */
  summaryWidth?: number;
}

/** A one-line description of where a session was recorded. */
export function sessionTitle(model: SessionModel): string {
  const target = model.target ? `${model.target.host}:${model.target.port}` : 'unknown server';
  const listen = model.listen ? `${model.listen.host}:${model.listen.port} → ` : '';
  const when = model.startT !== undefined ? new Date(model.startT).toISOString() : 'unknown time';
  return `chatlab session ${listen}${target}, ${model.counters.connections} connection(s), started ${when}`;
}

/**
 * The whole session as a text sequence diagram: one column per lifeline (final names), one line
 * per row, then the 10-step checklist and the counters. The same drawing as the plain view.
 */
export function exportText(model: SessionModel, options: TextExportOptions = {}): string {
  const diagram = diagramTextLines(model.rows, model.lifelines, { color: options.color ?? false, startT: model.startT, summaryWidth: options.summaryWidth ?? 120 });
  const lines = [sessionTitle(model), '', ...diagram, '', ...checklistLines(model), countersLine(model)];
  return lines.join('\n') + '\n';
}
