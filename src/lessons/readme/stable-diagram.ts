import { modelFromEvents, SERVER_LIFELINE, type Row, type RowKind, type WireEvent } from '../../inspector/index.ts';
import { NOMINAL_INSPECTOR_PORT, NOMINAL_SERVER_PORT } from '../runtime/index.ts';

/** Rows that end (half of) a connection. */
const CLOSING: ReadonlySet<RowKind> = new Set<RowKind>(['fin', 'reset', 'close']);

/** A row as far as every run repeats it, with what decides which rows may trade places. */
interface StableRow {
  text: string;
  conn?: number;
  closing: boolean;
  /** Which end of its connection the row comes from (a rename: from the welcome the server sent). */
  side: 'client' | 'server';
}

/**
 * What two recorded runs of a lesson must share to draw the same diagram: the diagram of
 * `events` with what changes from run to run without the lesson changing left out or put in
 * one canonical order. `scripts/lesson-diagrams.ts` keeps the committed trace when a new run
 * gives the same text, so regenerating rewrites nothing for a non-change. Left out or fixed:
 * - ports picked at random: the server's and the inspector's become 7070 and 7071 (as in the
 *   README), the clients' ephemeral ones `*`;
 * - raw chunks (TLS records, unframed bytes): encrypted bytes are new on every run, a record's
 *   size can change by a byte (a signature), and the records fall into reads differently;
 * - the order of a closing against what happens at the same moment elsewhere. After a bye the
 *   server's FIN, the client's FIN and the presence the server sends the others travel on
 *   different sockets (or directions) at once; the inspector reads them in whichever order
 *   they come, and no scripted wait can order them. So a row that closes a connection (FIN,
 *   reset, close) may trade places with a neighbour the server sends another connection, with
 *   another connection's closing, or with the closing of the other end of its own connection.
 *   All other rows keep their order (a client's frame, what one connection carries each way).
 */
export function stableDiagram(events: readonly WireEvent[]): string {
  const model = modelFromEvents(events);
  const listening = events.find((event) => event.kind === 'listening');
  const nominal = new Map<number, number>();
  if (listening?.kind === 'listening') {
    nominal.set(listening.target.port, NOMINAL_SERVER_PORT);
    nominal.set(listening.listen.port, NOMINAL_INSPECTOR_PORT);
  }
  const mask = (text: string): string => text.replace(/127\.0\.0\.1:(\d+)/g, (_, port: string) => `127.0.0.1:${nominal.get(Number(port)) ?? '*'}`);
  const who = (id: number): string => (id === SERVER_LIFELINE ? 'S' : `C${id}`);
  const rows: StableRow[] = model.rows
    .filter((row) => row.kind !== 'chunk')
    .map((row: Row) => ({
      text: mask(`${who(row.from)} ${row.kind} ${who(row.to)}: ${row.step === null ? '' : `[${row.step}] `}${row.label} · ${row.summary}`),
      ...(row.conn === undefined ? {} : { conn: row.conn }),
      closing: CLOSING.has(row.kind),
      side: row.from === SERVER_LIFELINE || row.kind === 'rename' ? 'server' : 'client',
    }));
  const lifelines = model.lifelines.map((l) => mask(`${who(l.id)} ${l.name} ${l.address ?? ''}`.trimEnd()));
  const seen = model.steps.filter((s) => s.seen).map((s) => s.step);
  return [...lifelines, ...canonicalOrder(rows).map((row) => row.text), `steps seen: ${seen.join(' ')}`].join('\n') + '\n';
}

/** Whether two rows may be drawn in either order (see {@link stableDiagram}). */
function independent(a: StableRow, b: StableRow): boolean {
  if (a.conn === undefined || b.conn === undefined) return false;
  if (a.closing && b.closing) return a.conn !== b.conn || a.side !== b.side;
  const other = a.closing ? b : b.closing ? a : undefined;
  // A closing and what the server sends another connection at that moment.
  return other !== undefined && a.conn !== b.conn && other.side === 'server';
}

/**
 * One representative of all the orders reachable by swapping independent neighbours: each time,
 * of the rows no remaining earlier row must precede, the one whose text sorts first (the
 * lexicographic normal form of a trace, the same for every order of the class).
 */
function canonicalOrder(rows: StableRow[]): StableRow[] {
  const left = [...rows];
  const out: StableRow[] = [];
  while (left.length > 0) {
    let pick = 0;
    for (let i = 1; i < left.length; i++) {
      const row = left[i] as StableRow;
      if (row.text >= (left[pick] as StableRow).text) continue;
      if (left.slice(0, i).every((earlier) => independent(earlier, row))) pick = i;
    }
    out.push(...left.splice(pick, 1));
  }
  return out;
}
