/**
 * The lessons' README generation: the sections `npm run lessons:diagrams` writes and the lesson
 * tests check against the code and a real run — "what changed" and "the fix" (diffs), the
 * transcript of the scripted users, the diagram from the recorded trace — and the index of
 * lessons/README.md. Built on ../runtime (it runs the lessons to record them); the CLI does not
 * load it.
 */
export { renderDiffSection, renderFixSection } from './diff-sections.ts';
export { INDEX_README, renderDiagramSection, renderIndex, withFileSections } from './readme.ts';
export { recordRun, type Middlebox, type RecordedRun } from './record.ts';
export { stableDiagram } from './stable-diagram.ts';
export { nominaliseTraceFile, recordingInspector, withNominalPorts } from './trace-recording.ts';
export { renderTranscripts, terminalText, type RunPorts } from './transcript.ts';
export { withTrackFileSections } from './track-sections.ts';
