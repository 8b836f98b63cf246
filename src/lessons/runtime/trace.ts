import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { exportModel, modelFromEvents, readTrace } from '../../inspector/index.ts';
import type { Lesson } from './catalogue.ts';
import { NOMINAL_INSPECTOR_PORT, NOMINAL_SERVER_PORT, normalisePort } from './ports.ts';

/** Where a lesson's recorded run is kept: lessons/NN-slug/trace.jsonl. */
export function tracePath(lesson: Lesson): string {
  return join(lesson.dir, 'trace.jsonl');
}

/**
 * Renders a recorded trace with the inspector's exporter: `mermaid` for READMEs, `text` for
 * terminals. The run used random free ports; they are shown as the ones a learner uses (server
 * 7070, inspector 7071), like in the transcripts. Client ports stay as recorded: they are random
 * in every real run too.
 */
export async function exportTrace(trace: string, format: 'mermaid' | 'text'): Promise<string> {
  const events = await readTrace(trace);
  let text = exportModel(modelFromEvents(events), format).trimEnd();
  const listening = events.find((event) => event.kind === 'listening');
  if (listening?.kind === 'listening') {
    text = normalisePort(text, listening.target.port, NOMINAL_SERVER_PORT);
    text = normalisePort(text, listening.listen.port, NOMINAL_INSPECTOR_PORT);
  }
  return text;
}

/** The lesson's diagram as text for the terminal, or `null` when no run was recorded yet. */
export async function lessonDiagramText(lesson: Lesson): Promise<string | null> {
  const trace = tracePath(lesson);
  return existsSync(trace) ? exportTrace(trace, 'text') : null;
}
