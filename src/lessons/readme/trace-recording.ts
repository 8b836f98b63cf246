import { readFileSync, writeFileSync } from 'node:fs';
import { startInspector, type InspectorOptions } from '../../inspector/index.ts';
import { type NominalPorts, normalisePort, SINGLE_NODE_PORTS as SINGLE } from '../runtime/index.ts';
import type { Middlebox } from './record.ts';

/** Puts the inspector in front of a lesson server for one run, recording every event to `record`. */
export function recordingInspector(record: string, extra: Partial<InspectorOptions> = {}): (target: { host: string; port: number }) => Promise<Middlebox> {
  return async (target) => {
    const inspector = await startInspector({ target, record, view: 'none', ...extra });
    return { port: inspector.address.port, stop: () => inspector.stop() };
  };
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
export function withNominalPorts(jsonl: string, nominal: NominalPorts = SINGLE): string {
  const lines = jsonl.split('\n');
  const listening = lines.map((line) => (line.trim() ? (JSON.parse(line) as { kind?: string }) : null)).find((event) => event?.kind === 'listening') as
    | { listen: { port: number }; target: { port: number } }
    | undefined;
  if (!listening) return jsonl;
  const server = listening.target.port;
  const inspector = listening.listen.port;
  const rename = (text: string): string => normalisePort(normalisePort(text, server, nominal.server), inspector, nominal.inspector);
  return lines
    .map((line) => {
      if (!line.trim()) return line;
      const event = renamePorts(JSON.parse(line), rename) as { kind?: string; listen?: { port: number }; target?: { port: number } };
      if (event.kind === 'listening' && event.listen && event.target) {
        event.listen.port = nominal.inspector;
        event.target.port = nominal.server;
      }
      return JSON.stringify(event);
    })
    .join('\n');
}

/** Rewrites a lesson's trace file on the README's ports (see {@link withNominalPorts}); says whether it changed. */
export function nominaliseTraceFile(path: string, nominal: NominalPorts = SINGLE): boolean {
  const before = readFileSync(path, 'utf8');
  const after = withNominalPorts(before, nominal);
  if (after === before) return false;
  writeFileSync(path, after);
  return true;
}
