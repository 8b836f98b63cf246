/**
 * Regenerates the generated sections of every lesson README from the real code and a real run:
 *
 *   npm run lessons:diagrams                 all lessons
 *   npm run lessons:diagrams -- 4 7          only lessons 4 and 7
 *   npm run lessons:diagrams -- --no-run     only the sections that need no run (diffs, index, and
 *                                            the diagrams from the committed traces)
 *
 * For each lesson it starts the lesson's server on a free port, puts the inspector in front of it
 * (recording to lessons/NN-slug/trace.jsonl; a cluster lesson: one per node, trace-b.jsonl for
 * node B), plays the lesson's scripted users
 * (lessons/NN-slug/scenario.json) through the inspector, and writes between the README's markers:
 * the Mermaid sequence diagram exported from that trace, the transcript of every terminal, the
 * diff from the previous lesson (and from the broken version to the fix). lessons/README.md gets
 * the table of lessons, whichever lessons ran. The Python track (server.py/client.py beside the
 * Node files) gets its own diff, fix and transcript sections, from a run of its programs on the
 * same scenario (src/lessons/track-readme.ts). Text and code cannot drift: the lesson tests
 * compare them.
 */
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { relative } from 'node:path';
import { readTrace } from '../src/inspector/trace.ts';
import {
  INDEX_README,
  nominaliseTraceFile,
  recordingInspector,
  recordRun,
  renderDiagramSection,
  renderIndex,
  stableDiagram,
  withFileSections,
  withTrackFileSections,
} from '../src/lessons/readme/index.ts';
import {
  type ClusterNode,
  exportTrace,
  findLesson,
  hasSection,
  inTrack,
  type Lesson,
  lessonTraces,
  listLessons,
  readmePath,
  tracePath,
  trackSection,
  writeSection,
} from '../src/lessons/runtime/index.ts';

const args = process.argv.slice(2);
const run = !args.includes('--no-run');
const numbers = args.filter((arg) => /^\d+$/.test(arg)).map(Number);
const unknown = args.filter((arg) => !/^\d+$/.test(arg) && arg !== '--no-run');
if (unknown.length > 0) {
  console.error(`lesson-diagrams: unknown argument ${unknown.join(' ')} (usage: lesson-diagrams [--no-run] [lesson numbers…])`);
  process.exit(2);
}
const lessons: Lesson[] = numbers.length > 0 ? numbers.map((n) => findLesson(n) ?? fail(`there is no lesson ${n}`)) : listLessons();

function fail(message: string): never {
  console.error(`lesson-diagrams: ${message}`);
  process.exit(1);
}

/** Writes a file only when its content changed; says what happened. */
function update(path: string, content: string, what: string): void {
  const before = readFileSync(path, 'utf8');
  const name = relative(process.cwd(), path);
  if (before === content) {
    console.log(`${name}: up to date`);
    return;
  }
  writeFileSync(path, content);
  console.log(`${name}: updated (${what})`);
}

for (const lesson of lessons) {
  let readme = withTrackFileSections(withFileSections(readFileSync(readmePath(lesson), 'utf8'), lesson), lesson, 'python');
  const parts = ['diff'];
  const python = inTrack(lesson, 'python');
  if (run && python && hasSection(readme, trackSection('transcript', 'python'))) {
    try {
      readme = writeSection(readme, trackSection('transcript', 'python'), (await recordRun(python)).transcripts);
      parts.push('Python transcript');
    } catch (error) {
      fail(`${lesson.slug} (Python): ${(error as Error).message}`);
    }
  }
  if (run) {
    // Record to temporary files first: a failed run must not replace a good trace. A cluster
    // lesson has an inspector in front of each node, each with its own trace.
    const traces = lessonTraces(lesson);
    const fresh = (node?: ClusterNode): string => `${tracePath(lesson, (traces.find((t) => t.node === node) ?? traces[0])?.file)}.new`;
    try {
      // A UDP lesson is recorded through the UDP tap; a cluster lesson through an inspector per node.
      const udp = lesson.transport === 'udp' ? { transport: 'udp' as const } : {};
      const recorded = await recordRun(lesson, { middlebox: (target, node) => recordingInspector(fresh(node), udp)(target) });
      readme = writeSection(readme, 'transcript', recorded.transcripts);
      // Every run has new ports, times and TLS bytes, and closings that race other traffic: keep
      // the committed trace unless the diagram really changed (see stableDiagram), so
      // regenerating does not rewrite every README for nothing.
      for (const { file, node } of traces) {
        const trace = tracePath(lesson, file);
        const same = existsSync(trace) && stableDiagram(await readTrace(trace)) === stableDiagram(await readTrace(fresh(node)));
        if (same) rmSync(fresh(node));
        else renameSync(fresh(node), trace);
      }
      parts.push('transcript');
    } catch (error) {
      for (const { node } of traces) rmSync(fresh(node), { force: true });
      fail(`${lesson.slug}: ${(error as Error).message}`);
    }
  }
  // The diagram needs no run: it is drawn from the committed trace, put on the README's ports
  // first so that a replay of it shows what the README shows.
  for (const { file, section, nominal } of lessonTraces(lesson)) {
    const trace = tracePath(lesson, file);
    if (!existsSync(trace)) continue;
    if (nominaliseTraceFile(trace, nominal)) console.log(`${relative(process.cwd(), trace)}: updated (ports ${nominal.server} and ${nominal.inspector})`);
    readme = writeSection(readme, section, renderDiagramSection(await exportTrace(trace, 'mermaid', nominal), file));
    parts.push(section);
  }
  update(readmePath(lesson), readme, parts.join(', '));
}

// The table of lessons comes from lessons.json alone: keep it current whichever lessons ran.
update(INDEX_README, writeSection(readFileSync(INDEX_README, 'utf8'), 'index', renderIndex()), 'index');
