/**
 * Which diagram rows a view shows: keep-alive traffic (hidden unless asked for) and the type
 * filter (show only some types, or all but some). Shared by the terminal UI and the plain view.
 */
import type { Row } from '../session-model.ts';

/** Frame types that only keep a connection alive: `ping` and its answer `pong`. */
export const KEEPALIVE_TYPES: ReadonlySet<string> = new Set(['ping', 'pong']);

/**
 * What the type filter compares: the frame type or event label (a lost datagram: the type of the
 * frame it held); reads, raw chunks and TLS records as one type each.
 */
export function rowType(row: Row): string {
  if (row.kind === 'read') return 'read';
  if (row.kind === 'chunk') return row.item?.kind === 'chunk' && row.item.tls ? 'TLS records' : 'raw bytes';
  // A lost datagram (labelled `✗ say`) is filtered as the frame it held.
  if (row.kind === 'lost' && row.item?.kind === 'frame') return row.item.frame.type;
  return row.label;
}

/** Whether `row` is a keep-alive frame (a `ping` or a `pong`). */
export function isKeepAlive(row: Row): boolean {
  return row.kind === 'frame' && row.item?.kind === 'frame' && KEEPALIVE_TYPES.has(row.item.frame.type);
}

/**
 * Whether keep-alive rows are drawn: when asked for (`--show-keepalive`, the `a` key), or when
 * the type filter shows `ping` or `pong` by name.
 */
export function keepAliveWanted(show: boolean, filter: TypeFilter | undefined): boolean {
  if (show) return true;
  return filter !== undefined && 'include' in filter && [...KEEPALIVE_TYPES].some((type) => filter.include.has(type));
}

/** Show only these types (`include`), or every type but these (`exclude`). */
export type TypeFilter = { include: ReadonlySet<string> } | { exclude: ReadonlySet<string> };

/** Thrown by {@link parseTypeFilter} for a filter it cannot read. */
export class TypeFilterError extends Error {}

/**
 * Reads a type filter as typed by a person: `say,message` shows only those types; `-ping` or
 * `!ping` (each name prefixed, comma-separated: `-ping,-pong`) hides them. Mixing the two forms
 * is refused, since "only say, but not ping" means nothing more than "only say".
 * @throws TypeFilterError on an empty filter, an empty name or mixed forms.
 */
export function parseTypeFilter(text: string): TypeFilter {
  const parts = text.split(',').map((part) => part.trim());
  if (parts.every((part) => part === '')) throw new TypeFilterError('the type filter is empty: give types to show (say,message) or to hide (-ping,-pong)');
  const excluded = parts.filter((part) => part.startsWith('-') || part.startsWith('!'));
  if (excluded.length > 0 && excluded.length < parts.length) {
    throw new TypeFilterError(`"${text}" mixes types to show and to hide: prefix every type with - (or !) to hide it, or none to show only those`);
  }
  const names = parts.map((part) => (excluded.length > 0 ? part.slice(1).trim() : part));
  if (names.some((name) => name === '')) throw new TypeFilterError(`"${text}" has an empty type name`);
  return excluded.length > 0 ? { exclude: new Set(names) } : { include: new Set(names) };
}

/** Whether `row` passes the type filter (`undefined`: every row does). */
export function passesTypeFilter(row: Row, filter: TypeFilter | undefined): boolean {
  if (!filter) return true;
  const type = rowType(row);
  return 'include' in filter ? filter.include.has(type) : !filter.exclude.has(type);
}

/** How a filter reads in a status line: `only say, message` or `all but ping`. */
export function describeTypeFilter(filter: TypeFilter): string {
  return 'include' in filter ? `only ${[...filter.include].join(', ')}` : `all but ${[...filter.exclude].join(', ')}`;
}
