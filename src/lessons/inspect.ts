import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exportModel, modelFromEvents } from '../inspector/export/index.ts';
import { startInspector, type InspectorOptions } from '../inspector/inspector.ts';
import { readTrace } from '../inspector/trace.ts';
import type { Lesson } from './catalogue.ts';
import type { Middlebox } from './record.ts';
import { NOMINAL_INSPECTOR_PORT, NOMINAL_SERVER_PORT, normalisePort } from './transcript.ts';

/** Where a lesson's recorded run is kept: lessons/NN-slug/trace.jsonl. */
export function tracePath(lesson: Lesson): string {
  return join(lesson.dir, 'trace.jsonl');
}

/** Puts the inspector in front of a lesson server for one run, recording every event to `record`. */
export function recordingInspector(record: string, extra: Partial<InspectorOptions> = {}): (target: { host: string; port: number }) => Promise<Middlebox> {
  return async (target) => {
    const inspector = await startInspector({ target, record, view: 'none', ...extra });
    return { port: inspector.address.port, stop: () => inspector.stop() };
  };
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

/** Keys whose strings are the bytes that crossed the wire: a trace keeps those exactly as they were. */
const WIRE_KEYS: ReadonlySet<string> = new Set(['bytes', 'text', 'frame']);

/** `value` with every port shown in its strings (not in wire bytes) replaced by `rename`. */
function renamePorts(value: unknown, rename: (text: string) => string, key = ''): unknown {
  if (WIRE_KEYS.has(key)) return value;
  if (typeof value === 'string') return rename(value);
  if (Array.isArray(value)) return value.map((item) => renamePorts(item, rename));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, renamePorts(v, rename, k)]));
  }
  return value;
}

/**
 * A recorded trace (JSONL text) with the run's random ports replaced by the ones the README
 * uses: the server's becomes 7070, the inspector's 7071, in the `listening` event and in every
 * summary, so `chatlab inspect replay trace.jsonl` shows what the README's diagram shows. The
 * bytes that crossed the wire are left as they were; client ports stay (random in any real run).
 * Idempotent: a trace already on the nominal ports comes back unchanged.
 */
export function withNominalPorts(jsonl: string): string {
  const lines = jsonl.split('\n');
  const listening = lines.map((line) => (line.trim() ? (JSON.parse(line) as { kind?: string }) : null)).find((event) => event?.kind === 'listening') as
    | { listen: { port: number }; target: { port: number } }
    | undefined;
  if (!listening) return jsonl;
  const server = listening.target.port;
  const inspector = listening.listen.port;
  const rename = (text: string): string => normalisePort(normalisePort(text, server, NOMINAL_SERVER_PORT), inspector, NOMINAL_INSPECTOR_PORT);
  return lines
    .map((line) => {
      if (!line.trim()) return line;
      const event = renamePorts(JSON.parse(line), rename) as { kind?: string; listen?: { port: number }; target?: { port: number } };
      if (event.kind === 'listening' && event.listen && event.target) {
        event.listen.port = NOMINAL_INSPECTOR_PORT;
        event.target.port = NOMINAL_SERVER_PORT;
      }
      return JSON.stringify(event);
    })
    .join('\n');
}

/** Rewrites a lesson's trace file on the README's ports (see {@link withNominalPorts}); says whether it changed. */
export function nominaliseTraceFile(path: string): boolean {
  const before = readFileSync(path, 'utf8');
  const after = withNominalPorts(before);
  if (after === before) return false;
  writeFileSync(path, after);
  return true;
}

/** The lesson's diagram as text for the terminal, or `null` when no run was recorded yet. */
export async function lessonDiagramText(lesson: Lesson): Promise<string | null> {
  const trace = tracePath(lesson);
  return existsSync(trace) ? exportTrace(trace, 'text') : null;
}
