import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { exportModel, modelFromEvents, readTrace } from '../../inspector/index.ts';
import type { Lesson } from './catalogue.ts';
import { CLUSTER_NODES, type ClusterNode, clusterNominalPorts } from './cluster.ts';
import type { SectionName } from './sections.ts';
import { NOMINAL_INSPECTOR_PORT, NOMINAL_SERVER_PORT, normalisePort } from './ports.ts';

/** The ports a recorded trace is shown on: the server's and the inspector's in front of it. */
export interface NominalPorts {
  server: number;
  inspector: number;
}

/** A lesson's one recording: server 7070, inspector 7071. */
export const SINGLE_NODE_PORTS: NominalPorts = { server: NOMINAL_SERVER_PORT, inspector: NOMINAL_INSPECTOR_PORT };

/** One recorded trace of a lesson, and the README section its diagram goes in. */
export interface LessonTrace {
  /** File name in the lesson folder: `trace.jsonl`, or a cluster node's `trace-b.jsonl`. */
  file: string;
  /** The README section: `diagram`, or `diagram-b`. */
  section: SectionName;
  /** The ports the trace and its diagram show. */
  nominal: NominalPorts;
  /** The cluster node it was recorded in front of (cluster lessons only). */
  node?: ClusterNode;
}

/**
 * A lesson's recorded traces: one, or for a cluster lesson one per node (an inspector in front
 * of each node: node A on 7070/7071 in trace.jsonl, node B on 7072/7073 in trace-b.jsonl).
 */
export function lessonTraces(lesson: Pick<Lesson, 'cluster'>): LessonTrace[] {
  if (!lesson.cluster) return [{ file: 'trace.jsonl', section: 'diagram', nominal: SINGLE_NODE_PORTS }];
  return CLUSTER_NODES.map((node, index) => {
    const suffix = index === 0 ? '' : `-${node.toLowerCase()}`;
    return { file: `trace${suffix}.jsonl`, section: index === 0 ? 'diagram' : 'diagram-b', nominal: clusterNominalPorts(node), node };
  });
}

/** Where a lesson's recorded run is kept: lessons/NN-slug/trace.jsonl (or another of {@link lessonTraces}). */
export function tracePath(lesson: Lesson, file = 'trace.jsonl'): string {
  return join(lesson.dir, file);
}

/**
 * Renders a recorded trace with the inspector's exporter: `mermaid` for READMEs, `text` for
 * terminals. The run used random free ports; they are shown as the ones a learner uses (server
 * 7070, inspector 7071), like in the transcripts. Client ports stay as recorded: they are random
 * in every real run too.
 */
export async function exportTrace(trace: string, format: 'mermaid' | 'text', nominal: NominalPorts = SINGLE_NODE_PORTS): Promise<string> {
  const events = await readTrace(trace);
  let text = exportModel(modelFromEvents(events), format).trimEnd();
  const listening = events.find((event) => event.kind === 'listening');
  if (listening?.kind === 'listening') {
    text = normalisePort(text, listening.target.port, nominal.server);
    text = normalisePort(text, listening.listen.port, nominal.inspector);
  }
  return text;
}

/** The lesson's diagram as text for the terminal, or `null` when no run was recorded yet. */
export async function lessonDiagramText(lesson: Lesson): Promise<string | null> {
  const trace = tracePath(lesson);
  return existsSync(trace) ? exportTrace(trace, 'text') : null;
}
