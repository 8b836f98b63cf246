/**
 * chatlab's terminal toolkit, shared by every tool that draws on a terminal (client, inspector,
 * verifier, lessons, the CLI): one colour decision and styler, one measure of how many cells text
 * takes (grapheme-aware: CJK, combining marks, flags, emoji ZWJ sequences), clipping and padding
 * by cells, and the one correction of blessed's widths for the full-screen views.
 */
export { canRunFullScreen, colorEnabled, paint, painter, type MaybeTerminal, type Painter, type Style } from './colour.ts';
export { cellWidth, codePointWidth, graphemes, graphemeWidth, isJoinedSequence } from './cell-width.ts';
export { displayText, padCells, toCells, truncateCells, type Cell } from './text-cells.ts';
export { patchBlessedWidths } from './blessed-widths.ts';
