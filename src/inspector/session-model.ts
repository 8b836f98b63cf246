import { PagedListAssembler, STEPS, stepOf, type Direction, type RawFrame, type StepNumber } from '../protocol/index.ts';
import type { Endpoint, FaultOptions, FramingMode, Transport, WireEvent } from './events.ts';
import { ConnectionFramer, type FramedItem, type ReadReport } from './framing.ts';
import { datagramItem } from './udp/datagram-item.ts';
import { describeItem } from './summary.ts';
import { TLS_NOTE } from './tls-records.ts';

/** The lifeline id of the server; client lifelines use their connection number. */
export const SERVER_LIFELINE = 0;

/** One column of the sequence diagram: the server, or one client connection. */
export interface Lifeline {
  /** 0 for the server, else the connection number. */
  id: number;
  /** What the column header shows: the user once logged in, the address until then. */
  name: string;
  /** The client's address (`127.0.0.1:50412`), or the server's `host:port`. */
  address: string;
  /** The logged-in user, once a `welcome` named it. */
  user?: string;
  openedAt: number;
  closedAt?: number;
}

/**
 * What a diagram row shows. Frames and friends are arrows between two lifelines; connection
 * events (connect, FIN, reset) are arrows too, drawn dashed; notes sit on one lifeline.
 */
export type RowKind =
  | 'frame' // a chatlab/1 frame
  | 'line' // a line of a line protocol
  | 'chunk' // raw bytes of an unknown protocol
  | 'bad' // bytes that failed to frame (bad_frame, frame_too_large, truncated)
  | 'connect' // TCP connection established (client → server)
  | 'refused' // the server could not be reached
  | 'fin' // one side half-closed (FIN)
  | 'close' // a socket closed without a FIN being seen
  | 'reset' // a socket was reset or failed (RST, error)
  | 'drop' // the inspector cut the connection (fault injection)
  | 'gap' // bytes not decoded because the view fell behind
  | 'silent' // the server accepted but said nothing (no hello) for a while
  | 'read' // one TCP read (only with showReads)
  | 'listen' // the server is listening (step 1)
  | 'rename' // a lifeline got its user name
  | 'tls' // a connection carries TLS records: its frames are encrypted (a note, once per connection)
  | 'note' // a remark on one lifeline from whoever built the rows (the verifier: a line typed into or printed by the client)
  | 'lost'; // a UDP datagram the inspector dropped (fault injection): it never arrived

/** Row kinds drawn as an arrow from `from` to `to`. */
export const ARROW_KINDS: ReadonlySet<RowKind> = new Set<RowKind>(['frame', 'line', 'chunk', 'bad', 'connect', 'refused', 'fin', 'close', 'reset', 'read', 'lost']);

/** One row of the diagram. */
export interface Row {
  /** Increasing from 1 in arrival order; never reused. */
  id: number;
  t: number;
  kind: RowKind;
  conn?: number;
  dir?: Direction;
  /** Lifeline the arrow starts at (or the note's lifeline). */
  from: number;
  /** Lifeline the arrow points to (equal to `from` for a note). */
  to: number;
  /** Short label drawn on the arrow: the frame type, `FIN`, `connect`… */
  label: string;
  /** One-line summary shown beside the arrow. */
  summary: string;
  /** Which of the 10 steps the row belongs to, if any. */
  step: StepNumber | null;
  /** The framed bytes (frames, lines, chunks, bad bytes). */
  item?: FramedItem;
  /** The read this row describes (kind `read`). */
  read?: ReadReport;
}

/** The state of one of the 10 steps in the checklist. */
export interface StepState {
  step: StepNumber;
  name: string;
  seen: boolean;
  /** Rows seen for this step. */
  count: number;
  /** Id of the first row that showed the step. */
  firstRow?: number;
}

/** Running totals, per direction where it matters. */
export interface Counters {
  connections: number;
  open: number;
  frames: Record<Direction, number>;
  bytes: Record<Direction, number>;
  reads: Record<Direction, number>;
  bad: number;
  /** Rows dropped from the front because the model keeps at most `maxRows`. */
  droppedRows: number;
  /** Bytes the view skipped because it fell behind (forwarding never skips). */
  skippedBytes: number;
  /** UDP: datagrams the inspector dropped (`--loss`). */
  lost: number;
  /** UDP: extra copies the inspector sent (`--duplicate`). */
  duplicates: number;
}

/** Options of {@link SessionModel}. */
export interface SessionModelOptions {
  /** Framing for connections (default `auto`; a trace's `listening` event can set it). */
  framing?: FramingMode;
  /** Add a row per TCP read, to show how reads and frames line up. */
  showReads?: boolean;
  /** Rows kept in memory; older ones are dropped (default 50,000). */
  maxRows?: number;
}

interface ConnectionState {
  framer: ConnectionFramer;
  byId: Map<string, RawFrame>;
  /** The client's latest frame, which an `ok`/`error` without id answers; unset after unreadable bytes. */
  lastRequest?: RawFrame;
  loginUser?: string;
  finSeen: Record<Direction, boolean>;
  closed: { client: boolean; server: boolean };
  upstream: boolean;
  /** The TLS note was added for this connection. */
  tlsNoted: boolean;
  /** Follows paged user lists (`more`) from the server, so their continuations are shown as such. */
  lists: PagedListAssembler;
  /** The first frame of the paged list in progress (`welcome` or `users`), if any. */
  listHead?: RawFrame;
  /** UDP: the highest datagram `seq` seen so far per direction, to tell a late datagram. */
  datagramsSeen: Record<Direction, number>;
}

const BUCKET_MS = 1000;
const MAX_BUCKETS = 300;

/** The lifelines an arrow of `dir` on connection `conn` joins: client → server, or back. */
function arrowEnds(conn: number, dir: Direction): { from: number; to: number } {
  return dir === 'c2s' ? { from: conn, to: SERVER_LIFELINE } : { from: SERVER_LIFELINE, to: conn };
}

/**
 * The I/O-free core of the inspector (mitmproxy style): fed {@link WireEvent}s, it frames the
 * bytes, builds lifelines and diagram rows, lights the 10-step checklist and keeps counters.
 * It never touches a socket or a screen, so the live proxy, a replayed trace and the tests
 * all drive the very same code, and every view only reads it.
 */
export class SessionModel {
  readonly rows: Row[] = [];
  readonly steps: StepState[] = STEPS.map((s) => ({ step: s.step, name: s.name, seen: false, count: 0 }));
  readonly counters: Counters = {
    connections: 0,
    open: 0,
    frames: { c2s: 0, s2c: 0 },
    bytes: { c2s: 0, s2c: 0 },
    reads: { c2s: 0, s2c: 0 },
    bad: 0,
    droppedRows: 0,
    skippedBytes: 0,
    lost: 0,
    duplicates: 0,
  };
  /** Time of the first event (the diagram's time zero). */
  startT?: number;
  /** Time of the latest event. */
  lastT?: number;
  listen?: Endpoint;
  target?: Endpoint;
  faults?: FaultOptions;
  framing: FramingMode;
  /** What the session was tapped on (a trace's `listening` event says; TCP when it does not). */
  transport: Transport = 'tcp';
  /** Bumped whenever a lifeline is added, renamed or closed (views redraw headers on change). */
  lifelineVersion = 0;

  private readonly lifelineMap = new Map<number, Lifeline>();
  private readonly connections = new Map<number, ConnectionState>();
  private readonly buckets = new Map<number, number>();
  private readonly showReads: boolean;
  private readonly maxRows: number;
  private nextRowId = 1;
  private serverListening = false;

  constructor(options: SessionModelOptions = {}) {
    this.framing = options.framing ?? 'auto';
    this.showReads = options.showReads ?? false;
    this.maxRows = options.maxRows ?? 50_000;
    this.lifelineMap.set(SERVER_LIFELINE, { id: SERVER_LIFELINE, name: 'server', address: '', openedAt: 0 });
  }

  /** Lifelines in column order: the server first, then clients in order of arrival. */
  get lifelines(): Lifeline[] {
    return [...this.lifelineMap.values()];
  }

  /** One lifeline by id. */
  lifeline(id: number): Lifeline | undefined {
    return this.lifelineMap.get(id);
  }

  /** The framing a connection ended up with (`undefined` while auto-detection waits). */
  connectionFraming(conn: number): 'chatlab' | 'lines' | 'raw' | undefined {
    return this.connections.get(conn)?.framer.mode;
  }

  /** True once a connection's bytes were recognised as TLS records (its frames are encrypted). */
  isTlsConnection(conn: number): boolean {
    return this.connections.get(conn)?.tlsNoted ?? false;
  }

  /** True once all ten steps have been seen. */
  get allStepsSeen(): boolean {
    return this.steps.every((s) => s.seen);
  }

  /**
   * Bytes per second (both directions) for the `count` one-second buckets ending at `endT`
   * (default: the latest event), oldest first: the throughput sparkline.
   */
  throughput(count = 60, endT = this.lastT ?? 0): number[] {
    const last = Math.floor(endT / BUCKET_MS);
    const out: number[] = [];
    for (let b = last - count + 1; b <= last; b++) out.push(this.buckets.get(b) ?? 0);
    return out;
  }

  /** Applies every event in order; returns all rows added. */
  applyAll(events: Iterable<WireEvent>): Row[] {
    const added: Row[] = [];
    for (const event of events) added.push(...this.apply(event));
    return added;
  }

  /** Applies one event; returns the rows it added, in order. */
  apply(event: WireEvent): Row[] {
    this.startT ??= event.t;
    this.lastT = Math.max(this.lastT ?? event.t, event.t);
    const added: Row[] = [];
    switch (event.kind) {
      case 'listening':
        this.listen = event.listen;
        this.target = event.target;
        this.faults = event.faults;
        this.framing = event.framing;
        this.transport = event.transport ?? 'tcp';
        this.serverLifeline.address = `${event.target.host}:${event.target.port}`;
        this.lifelineVersion++;
        break;
      case 'open':
        this.counters.connections++;
        this.counters.open++;
        this.lifelineMap.set(event.conn, { id: event.conn, name: event.peer, address: event.peer, openedAt: event.t });
        this.connections.set(event.conn, {
          framer: new ConnectionFramer(this.framing),
          byId: new Map(),
          finSeen: { c2s: false, s2c: false },
          closed: { client: false, server: false },
          upstream: false,
          tlsNoted: false,
          lists: new PagedListAssembler(),
          datagramsSeen: { c2s: 0, s2c: 0 },
        });
        this.lifelineVersion++;
        break;
      case 'upstream': {
        const state = this.connection(event.conn);
        state.upstream = true;
        if (!this.serverListening) {
          this.serverListening = true;
          const where = this.serverLifeline.address || 'the target';
          this.push(added, {
            t: event.t,
            kind: 'listen',
            from: SERVER_LIFELINE,
            to: SERVER_LIFELINE,
            label: 'listening',
            summary: `server is listening on ${where} (it accepted a connection)`,
            step: 1,
          });
        }
        this.push(added, {
          t: event.t,
          kind: 'connect',
          conn: event.conn,
          dir: 'c2s',
          from: event.conn,
          to: SERVER_LIFELINE,
          label: 'connect',
          summary: `TCP connection from ${this.lifeline(event.conn)?.address ?? '?'} accepted`,
          step: 2,
        });
        break;
      }
      case 'data': {
        const state = this.connection(event.conn);
        this.counters.bytes[event.dir] += event.bytes.length;
        this.counters.reads[event.dir]++;
        const bucket = Math.floor(event.t / BUCKET_MS);
        this.buckets.set(bucket, (this.buckets.get(bucket) ?? 0) + event.bytes.length);
        if (this.buckets.size > MAX_BUCKETS) this.buckets.delete(this.buckets.keys().next().value as number);
        const result = state.framer.push(event.dir, event.bytes, event.read, event.t);
        this.addFramed(added, event.conn, state, result.items, result.reads);
        break;
      }
      case 'datagram':
        this.onDatagram(added, event);
        break;
      case 'end': {
        const state = this.connection(event.conn);
        const result = state.framer.end(event.dir);
        this.addFramed(added, event.conn, state, result.items, result.reads);
        state.finSeen[event.dir] = true;
        const client = event.dir === 'c2s';
        this.push(added, {
          t: event.t,
          kind: 'fin',
          conn: event.conn,
          dir: event.dir,
          ...arrowEnds(event.conn, event.dir),
          label: 'FIN',
          summary: client ? 'client closed its side (FIN)' : 'server closed its side (FIN)',
          step: 10,
        });
        break;
      }
      case 'close':
        this.onClose(added, event);
        break;
      case 'fault':
        this.push(added, { t: event.t, kind: 'drop', conn: event.conn, from: event.conn, to: event.conn, label: 'cut', summary: `inspector cut the connection: ${event.detail}`, step: null });
        break;
      case 'silent': {
        const where = this.serverLifeline.address || 'the server';
        const seconds = event.ms % 1000 === 0 ? `${event.ms / 1000} s` : `${event.ms} ms`;
        this.push(added, {
          t: event.t,
          kind: 'silent',
          conn: event.conn,
          from: SERVER_LIFELINE,
          to: SERVER_LIFELINE,
          label: 'no hello',
          summary: `connected to ${where} but no hello within ${seconds} — is it a chatlab/1 server? is it overloaded?`,
          step: null,
        });
        break;
      }
      case 'gap': {
        this.counters.skippedBytes += event.bytes;
        this.connections.get(event.conn)?.framer.gap(event.dir);
        this.push(added, {
          t: event.t,
          kind: 'gap',
          conn: event.conn,
          dir: event.dir,
          from: event.conn,
          to: event.conn,
          label: 'gap',
          summary: `${event.bytes} bytes (${event.dir}) forwarded but not decoded: the view fell behind`,
          step: null,
        });
        break;
      }
    }
    return added;
  }

  private get serverLifeline(): Lifeline {
    return this.lifelineMap.get(SERVER_LIFELINE) as Lifeline;
  }

  private connection(conn: number): ConnectionState {
    const state = this.connections.get(conn);
    if (state) return state;
    // A trace cut at the front (or an event script) may start mid-connection: invent the lifeline.
    this.apply({ kind: 'open', t: this.lastT ?? 0, conn, peer: `#${conn}` });
    return this.connections.get(conn) as ConnectionState;
  }

  /**
   * One UDP datagram is one whole frame: no framer, no reads to reassemble. A delivered one is a
   * frame row like a TCP frame (steps, renames, paged lists); a lost one is a `lost` row, drawn
   * as an arrow that ends in ✗ and lights no step, since it never arrived.
   */
  private onDatagram(added: Row[], event: Extract<WireEvent, { kind: 'datagram' }>): void {
    const state = this.connection(event.conn);
    this.counters.bytes[event.dir] += event.bytes.length;
    this.counters.reads[event.dir]++;
    const bucket = Math.floor(event.t / BUCKET_MS);
    this.buckets.set(bucket, (this.buckets.get(bucket) ?? 0) + event.bytes.length);
    if (this.buckets.size > MAX_BUCKETS) this.buckets.delete(this.buckets.keys().next().value as number);
    const item = datagramItem(event.dir, event.bytes, event.seq, event.t);
    const late = event.fate !== 'lost' && event.seq < state.datagramsSeen[event.dir];
    state.datagramsSeen[event.dir] = Math.max(state.datagramsSeen[event.dir], event.seq);
    if (event.fate === 'lost') {
      this.counters.lost++;
      const { label, summary } = describeItem(item);
      this.push(added, {
        t: event.t,
        kind: 'lost',
        conn: event.conn,
        dir: event.dir,
        ...arrowEnds(event.conn, event.dir),
        label: `✗ ${label}`,
        summary: `lost: datagram #${event.seq} (${summary}) was dropped by the inspector and never arrived`,
        step: null,
        item,
      });
      return;
    }
    if (event.fate === 'duplicate') this.counters.duplicates++;
    // No accept to show that the server is up: its first answer does (step 1).
    if (event.dir === 's2c' && !this.serverListening) {
      this.serverListening = true;
      const where = this.serverLifeline.address || 'the target';
      this.push(added, { t: event.t, kind: 'listen', from: SERVER_LIFELINE, to: SERVER_LIFELINE, label: 'listening', summary: `server is listening on ${where} (it answered a datagram)`, step: 1 });
    }
    const first = added.length;
    this.addItem(added, event.conn, state, item);
    const row = added.find((r, index) => index >= first && r.item === item);
    if (!row) return;
    const notes = [event.fate === 'duplicate' ? `a second copy of datagram #${event.seq}` : '', late ? `late: datagram #${event.seq} arrives after a later one` : ''].filter(Boolean);
    if (notes.length > 0) row.summary = `${row.summary} (${notes.join('; ')})`;
  }

  private onClose(added: Row[], event: Extract<WireEvent, { kind: 'close' }>): void {
    const state = this.connection(event.conn);
    const client = event.side === 'client';
    const dir: Direction = client ? 'c2s' : 's2c';
    const { from, to } = arrowEnds(event.conn, dir);
    if (!client && !state.upstream && event.error) {
      this.push(added, {
        t: event.t,
        kind: 'refused',
        conn: event.conn,
        dir: 'c2s',
        ...arrowEnds(event.conn, 'c2s'),
        label: 'connect ✗',
        summary: `could not reach the server: ${event.error}`,
        step: 2,
      });
    } else if (event.error || event.reset) {
      const who = client ? 'client' : 'server';
      this.push(added, { t: event.t, kind: 'reset', conn: event.conn, from, to, label: 'RST', summary: `${who} connection reset${event.error ? ` (${event.error})` : ''}`, step: 10 });
    } else if (!state.finSeen[dir]) {
      // A connection that never reached the server has no step 10 to show.
      this.push(added, {
        t: event.t,
        kind: 'close',
        conn: event.conn,
        from,
        to,
        label: 'close',
        summary: `${client ? 'client' : 'server'} connection closed (no FIN seen)`,
        step: state.upstream ? 10 : null,
      });
    }
    state.closed[event.side] = true;
    if (state.closed.client && state.closed.server) {
      const lifeline = this.lifeline(event.conn);
      if (lifeline && lifeline.closedAt === undefined) {
        lifeline.closedAt = event.t;
        this.counters.open--;
        this.lifelineVersion++;
      }
    }
  }

  private addFramed(added: Row[], conn: number, state: ConnectionState, items: FramedItem[], reads: ReadReport[]): void {
    const pending = [...items];
    const emitItem = (item: FramedItem): void => this.addItem(added, conn, state, item);
    if (this.showReads) {
      for (const read of reads) {
        this.push(added, this.readRow(conn, state, read));
        for (let i = 0; i < pending.length; ) {
          const item = pending[i] as FramedItem;
          const last = item.parts[item.parts.length - 1];
          if (item.dir === read.dir && last?.read === read.read) {
            emitItem(item);
            pending.splice(i, 1);
          } else {
            i++;
          }
        }
      }
    }
    for (const item of pending) emitItem(item);
  }

  private readRow(conn: number, state: ConnectionState, read: ReadReport): Omit<Row, 'id'> {
    const unit = state.framer.mode === 'lines' ? 'line' : state.framer.mode === 'raw' ? 'chunk' : 'frame';
    const parts: string[] = [];
    let whole = read.completed;
    if (read.finishesEarlier) {
      parts.push(`the end of a ${unit} begun in an earlier read`);
      whole--;
    }
    if (whole > 0) parts.push(`${whole} whole ${unit}${whole === 1 ? '' : 's'}`);
    if (read.held > 0) parts.push(read.completed === 0 && read.held > read.bytes ? `more of an unfinished ${unit} (${read.held} B held)` : `the start of a ${unit} (${read.held} B held)`);
    if (parts.length === 0) parts.push('nothing complete');
    return {
      t: read.t,
      kind: 'read',
      conn,
      dir: read.dir,
      ...arrowEnds(conn, read.dir),
      label: `read #${read.read}`,
      summary: `${read.bytes} B: ${parts.join(' + ')}`,
      step: null,
      read,
    };
  }

  private addItem(added: Row[], conn: number, state: ConnectionState, item: FramedItem): void {
    let { label, summary } = describeItem(item);
    const t = item.parts[item.parts.length - 1]?.t ?? this.lastT ?? 0;
    let step: StepNumber | null = null;
    if (item.kind === 'frame') {
      this.counters.frames[item.dir]++;
      step = this.stepOfFrame(state, item.frame, item.dir);
      if (item.dir === 's2c') ({ label, summary, step } = this.pagedList(state, item.frame, { label, summary, step }));
    } else if (item.kind === 'bad') {
      this.counters.bad++;
      // An error without id after it answers these bytes, not the request before them.
      if (item.dir === 'c2s') state.lastRequest = undefined;
    } else {
      this.counters.frames[item.dir]++;
    }
    this.push(added, {
      t,
      kind: item.kind,
      conn,
      dir: item.dir,
      ...arrowEnds(conn, item.dir),
      label,
      summary,
      step,
      item,
    });
    if (item.kind === 'frame' && item.dir === 's2c' && item.frame.type === 'welcome') this.nameLifeline(added, conn, state, item.frame, t);
    if (item.kind === 'chunk' && item.tls && !state.tlsNoted) {
      state.tlsNoted = true;
      this.push(added, { t, kind: 'tls', conn, from: conn, to: conn, label: 'TLS', summary: TLS_NOTE, step: null });
    }
  }

  /**
   * A server frame seen through the paged-list rule: a `users` frame that continues a list is
   * labelled `users (cont. 2)` (the last `users (cont. 5/5)`) and takes the step of the list's first
   * frame (a welcome's continuations are step 5, not a stray extension frame); a frame that breaks
   * into a list says so.
   */
  private pagedList(state: ConnectionState, frame: RawFrame, shown: { label: string; summary: string; step: StepNumber | null }): typeof shown {
    const head = state.listHead;
    const taken = state.lists.take(frame);
    if (taken.kind === 'whole') return shown;
    if (taken.kind === 'broken') {
      state.listHead = undefined;
      return { ...shown, summary: `${shown.summary} — breaks off the paged ${taken.list.type} list (${taken.message})` };
    }
    if (!head) {
      state.listHead = frame;
      return shown;
    }
    const step = head.type === 'welcome' ? 5 : this.stepOfFrame(state, head, 's2c');
    const names = Array.isArray(frame.users) ? frame.users.length : 0;
    if (taken.kind === 'page') return { label: `users (cont. ${taken.page})`, summary: `page ${taken.page} of the ${head.type}, ${names} more names: ${shown.summary}`, step };
    state.listHead = undefined;
    const total = taken.frame.users.length;
    return { label: `users (cont. ${taken.pages}/${taken.pages})`, summary: `last page of the ${head.type} (${total} names in all): ${shown.summary}`, step };
  }

  private stepOfFrame(state: ConnectionState, frame: RawFrame, dir: Direction): StepNumber | null {
    const id = frame.id === undefined ? undefined : JSON.stringify(frame.id);
    if (dir === 'c2s') {
      if (id !== undefined) state.byId.set(id, frame);
      if (state.byId.size > 1000) state.byId.delete(state.byId.keys().next().value as string);
      state.lastRequest = frame;
      if (frame.type === 'login' && typeof frame.user === 'string') state.loginUser = frame.user;
      return stepOf(frame, dir);
    }
    if (frame.type === 'ok' || frame.type === 'error') {
      const request = (id !== undefined ? state.byId.get(id) : undefined) ?? (frame.id === undefined ? state.lastRequest : undefined);
      return stepOf(frame, dir, request);
    }
    return stepOf(frame, dir);
  }

  private nameLifeline(added: Row[], conn: number, state: ConnectionState, welcome: RawFrame, t: number): void {
    const lifeline = this.lifeline(conn);
    const user = typeof welcome.user === 'string' ? welcome.user : state.loginUser;
    if (!lifeline || !user || lifeline.user === user) return;
    const taken = this.lifelines.some((l) => l.id !== conn && l.name === user);
    const name = taken ? `${user} (#${conn})` : user;
    const before = lifeline.name;
    lifeline.user = user;
    lifeline.name = name;
    this.lifelineVersion++;
    this.push(added, { t, kind: 'rename', conn, from: conn, to: conn, label: 'named', summary: `${before} is now ${name}`, step: null });
  }

  private push(added: Row[], row: Omit<Row, 'id'>): void {
    const full: Row = { id: this.nextRowId++, ...row };
    this.rows.push(full);
    added.push(full);
    if (full.step !== null && full.kind !== 'bad' && full.kind !== 'refused' && full.kind !== 'lost') {
      const state = this.steps[full.step - 1] as StepState;
      if (!state.seen) {
        state.seen = true;
        state.firstRow = full.id;
      }
      state.count++;
    }
    if (this.rows.length > this.maxRows) {
      const drop = Math.max(1, Math.floor(this.maxRows / 10));
      this.rows.splice(0, drop);
      this.counters.droppedRows += drop;
    }
  }
}
