/**
 * The chatlab inspector: a transparent TCP proxy that draws every frame as an arrow between
 * lifelines, labelled with its step of the 10-step flow. Thin socket shell (proxy.ts), run in its
 * own thread as the event source (proxy-thread.ts); a consumer (pipeline.ts) that feeds the I/O-free
 * core (session-model.ts) and hands on to the outputs, all sinks (sinks.ts: views/, trace.ts);
 * exports (export/). What views and exports both draw with (the diagram's layout and text, the
 * checklist) is render/. Other modules import the inspector only through this file; the
 * terminal UI is loaded on demand (loadTuiView), so a tool that never draws it never loads blessed.
 */
export { FRAMING_MODES, now, type Endpoint, type FaultOptions, type FramingMode, type WireEvent, type WireEventKind } from './events.ts';
export { startProxy, type InspectorProxy, type ProxyOptions } from './proxy.ts';
export { ConnectionFramer, detectFraming, type FramedItem, type ReadPart, type ReadReport } from './framing.ts';
export { SessionModel, SERVER_LIFELINE, ARROW_KINDS, type Counters, type Lifeline, type Row, type RowKind, type SessionModelOptions, type StepState } from './session-model.ts';
export { EventPipeline, type PipelineOptions } from './pipeline.ts';
export type { EventConsumer, EventSource } from './event-flow.ts';
export type { EventSink } from './sinks.ts';
export { startInspector, STOP_GRACE_MS, type Inspector, type InspectorOptions, type ViewKind } from './inspector.ts';
export { TraceWriter, TraceError, parseTrace, readTrace, serializeEvent, traceHeader, TRACE_VERSION } from './trace.ts';
export { replayEvents, withFraming, type ReplayOptions } from './replay.ts';
export { DEFAULT_EXPORT_DIR, EXPORT_FORMATS, exportModel, exportMermaid, exportSvg, exportText, exportStamp, modelFromEvents, writeSessionExports, type ExportFormat } from './export/index.ts';
export { PlainView, type PlainViewOptions } from './views/plain.ts';
export { detailLines } from './views/detail.ts';
export { gridWidth, PREFIX_WIDTH, type Span, type StyledLine } from './render/diagram-layout.ts';
export { diagramTextLines, type DiagramTextOptions } from './render/diagram-text.ts';
export { checklistLines, countersLine } from './render/styles.ts';
export { describeTypeFilter, parseTypeFilter, TypeFilterError, type TypeFilter } from './views/row-filter.ts';
export { summarizeFrame } from './summary.ts';
export type { TuiView, TuiOptions } from './views/tui.ts';
export { loadTuiView } from './views/load-tui.ts';
export { hasRandomFaults } from './udp/datagram-faults.ts';
