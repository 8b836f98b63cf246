import type { Socket } from 'node:net';
import { OutputBudget, type BudgetedOutbox } from './output-budget.ts';
import { SharedConcat } from './shared-concat.ts';
import { SYSTEM_CLOCK, type Clock, type TimerHandle } from './clock.ts';
import type { OverflowInfo } from './peer.ts';

export type { OverflowInfo } from './peer.ts';

/**
 * Something that must run before any byte leaves the process: history registers its
 * commit here, so no acknowledgement, relay or msgid is written before its message is stored.
 */
export type BeforeOutputHook = () => void;

/**
 * A flush run (the before-output hooks, then every dirty outbox) that took longer than this (ms)
 * makes the next run wait (see {@link FlushScheduler}). Below it, the load is light: the next run
 * comes in the next `setImmediate`, as soon as the turn's reads are handled.
 */
export const FLUSH_HOLD_FLOOR_MS = 1;

/**
 * A run that flushed fewer outboxes than this never holds the next one, however long it took.
 * Why: a run over a few sockets that took over the floor was slowed by something else (a GC
 * pause, the process preempted), and holding the next run would only add latency. And a room
 * of up to ~1,000 (the fan-out scenario's) already gets several broadcasts per write in each
 * turn: holding it saved CPU (30 % at 4,000 broadcasts/s) but raised p99 by 10–100 % near
 * saturation. A login storm keeps most of its gain (2,000 users: 2.1 µs of server CPU per
 * presence instead of 1.8 with every long run held, 4.8 without holding; 5,000: 1.09 µs, 0.98,
 * 6.0): its costly runs are those over thousands of sockets. See bench/README.md, big-room.
 */
export const FLUSH_HOLD_MIN_WRITES = 1024;

/**
 * The longest the next run waits after a long one (ms), whatever that run took: the latency a
 * held frame may gain. Up to this the hold equals the run, so flushing takes at most about half
 * the time. A run over 10,000 sockets can take 50–150 ms on a busy machine; a longer cap (50 ms)
 * then halved the CPU of a 10,000-user login storm again, but the server's RSS after it was
 * nearly double in that one run (RSS right after a storm varies about that much between runs of
 * one build: see bench/README.md, big-room), and a held frame may wait longer.
 */
export const FLUSH_HOLD_MAX_MS = 20;

/**
 * While a run is held, an outbox whose queue grows past this share of its bound (`maxBytes`)
 * brings the run forward to the next `setImmediate`: holding must not push a client that keeps
 * up towards its `output_overflow`.
 */
export const FLUSH_HURRY_SHARE = 0.25;

/** Options of a {@link FlushScheduler}. */
export interface FlushSchedulerOptions {
  /** Times each run and waits out the hold (tests pass a manual clock). Default: {@link SYSTEM_CLOCK}. */
  clock?: Clock;
  /** The fewest outboxes a long run must have flushed to hold the next. Default: {@link FLUSH_HOLD_MIN_WRITES}. */
  holdMinWrites?: number;
}

/**
 * Flushes every outbox that got frames, once per run, and each outbox as ONE write. One scheduler
 * serves the whole server, so a broadcast to 1,000 clients costs one timer, not 1,000.
 *
 * When runs are cheap (light load), a run comes in the `setImmediate` of the turn that queued
 * frames, after all of the turn's reads were handled: no added latency. When a run took longer
 * than {@link FLUSH_HOLD_FLOOR_MS} and wrote to at least {@link FLUSH_HOLD_MIN_WRITES} outboxes
 * (the writes are what costs: one system call per socket, e.g. a presence to 10,000 users after
 * every login of a login storm), the next run is *held* until as
 * long after its end as it took (at most {@link FLUSH_HOLD_MAX_MS}). Meanwhile the turns go on
 * reading and handling input, and their frames queue behind the held run, so each socket gets
 * several turns' frames in one write: the cost per frame falls as the load rises, and at most
 * about half the time goes to flushing. A wake that comes after the hold has passed is not held.
 * The hold is cut short (next `setImmediate`) when an outbox's queue passes
 * {@link FLUSH_HURRY_SHARE} of its bound, or when the server's {@link OutputBudget} has paused
 * input (see {@link hurry}).
 *
 * It is also THE place that orders "commit, then write": every socket write of every
 * {@link Outbox} (a run's flush, a flush on `'drain'`, the last frames of a closing connection)
 * first calls {@link commit}, which runs the {@link BeforeOutputHook}s (history's one
 * transaction for what was recorded since the last commit: per run, so a held run commits
 * several turns at once). Writing anything any other way is a bug.
 *
 * A held run needs no stop of its own: its timer never keeps the process alive, and a closing
 * connection writes its queue and last frame at once (see {@link Outbox.close}), so a run that
 * comes after the server stopped finds nothing to write and nothing to commit.
 */
export class FlushScheduler {
  // An array, not a Set: each outbox registers once per run (its own `inSchedule` flag), so the
  // per-delivery cost is a flag test instead of a hash-set insertion.
  private dirty: Outbox[] = [];
  /** A run is due (in a `setImmediate`, behind the hold timer, or once the current run ends). */
  private scheduled = false;
  private running = false;
  /** The clock's monotonic time before which a run is held (0: no hold). */
  private holdUntil = 0;
  /** The pending hold timer, while a run waits behind it. */
  private holdTimer: TimerHandle | undefined;
  private readonly hooks: BeforeOutputHook[] = [];
  private readonly clock: Clock;
  private readonly holdMinWrites: number;

  constructor(options: FlushSchedulerOptions = {}) {
    this.clock = options.clock ?? SYSTEM_CLOCK;
    this.holdMinWrites = options.holdMinWrites ?? FLUSH_HOLD_MIN_WRITES;
  }

  /** Registers work that {@link commit} runs before any output is written (and at the end of each run). */
  beforeOutput(hook: BeforeOutputHook): void {
    this.hooks.push(hook);
  }

  /** Runs the before-output hooks now (cheap when they have nothing to do). Throws what a hook throws. */
  commit(): void {
    for (const hook of this.hooks) hook();
  }

  /** Joins each outbox's queue, sharing one result among outboxes that queued the same buffers this run. */
  readonly concat = new SharedConcat();

  /** Whether a run is being held (waiting behind its timer) now. */
  get holding(): boolean {
    return this.holdTimer !== undefined;
  }

  /** Marks an outbox as having frames to write in the next run (the outbox makes sure it is only once). */
  schedule(outbox: Outbox): void {
    this.dirty.push(outbox);
    this.wake();
  }

  /** Makes sure a run comes (hooks, then flushes), even if no outbox has frames. */
  wake(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    // A wake during a run is armed when the run ends, which knows how long it took.
    if (!this.running) this.arm();
  }

  /**
   * Cuts a hold short: the held run comes in the next `setImmediate`. Outboxes call it when
   * holding would cost more than it saves (a queue near its client's bound, input paused by
   * the budget). Cheap when nothing is held.
   */
  hurry(): void {
    this.holdUntil = 0;
    if (this.holdTimer === undefined) return;
    this.clock.clearTimer(this.holdTimer);
    this.holdTimer = undefined;
    setImmediate(this.run);
  }

  private arm(): void {
    const wait = this.holdUntil === 0 ? 0 : this.holdUntil - this.clock.monotonic();
    if (wait > 0) this.holdTimer = this.clock.setTimer(wait, this.run);
    else setImmediate(this.run);
  }

  private readonly run = (): void => {
    this.holdTimer = undefined;
    this.scheduled = false;
    this.running = true;
    const started = this.clock.monotonic();
    let batch: Outbox[] = [];
    try {
      // Before the first write: a hook that throws leaves every queued frame unwritten.
      this.commit();
      batch = this.dirty;
      this.dirty = [];
      for (const outbox of batch) outbox.flush();
      this.concat.clear();
    } finally {
      this.running = false;
      const ended = this.clock.monotonic();
      const took = ended - started;
      const holds = took > FLUSH_HOLD_FLOOR_MS && batch.length >= this.holdMinWrites;
      this.holdUntil = holds ? ended + Math.min(took, FLUSH_HOLD_MAX_MS) : 0;
      if (this.scheduled) this.arm();
    }
  };
}

/**
 * One client's bounded output queue. Frames (already-encoded buffers, often the very same buffer
 * shared by every recipient of a broadcast) are queued, then written once per run of the
 * {@link FlushScheduler} (the end of the turn, or of a few turns when runs are held: see there) as
 * ONE `write` of their concatenation. When the socket reports back-pressure (`write` returned
 * false) nothing more is written until `'drain'`; frames keep queueing up to `maxBytes` in all
 * (queued here + buffered in the socket). Past that the client is too slow: the outbox stops
 * accepting and calls `onOverflow` once (on the next tick, never inside the caller's loop).
 *
 * Every byte it holds in user space is also counted in the server's {@link OutputBudget}: the
 * queue, plus what the socket buffers while we wait for `'drain'`. (After a write the socket
 * accepted, up to its highWaterMark of 16 KiB may still sit in it, uncounted: there is no event
 * to uncount it by, and it is bounded.)
 */
export class Outbox implements BudgetedOutbox {
  private chunks: Buffer[] = [];
  private queuedBytes = 0;
  /** socket.writableLength as of our last write: it can only shrink until the next one. */
  private socketBytes = 0;
  /** What this outbox counts in the budget now (queued, plus socketBytes while waiting for drain). */
  private counted = 0;
  private waitingForDrain = false;
  private blockedAt = 0;
  /** Whether this outbox is in the scheduler's list for its next run (so a push need not add it again). */
  private inSchedule = false;
  /** Past this many queued bytes, a held run is brought forward ({@link FLUSH_HURRY_SHARE}). */
  private readonly hurryBytes: number;
  private state: 'open' | 'overflowed' | 'closed' = 'open';

  /**
   * @param socket where the bytes go.
   * @param maxBytes most bytes allowed to be pending for this client.
   * @param scheduler the server's shared flush scheduler.
   * @param onOverflow called once when `maxBytes` would be exceeded, or when the budget cuts this client off.
   * @param budget the server's account of queued output (default: one of its own that never pauses).
   */
  constructor(
    private readonly socket: Socket,
    private readonly maxBytes: number,
    private readonly scheduler: FlushScheduler,
    private readonly onOverflow: (info: OverflowInfo) => void,
    private readonly budget: OutputBudget = new OutputBudget(),
  ) {
    this.hurryBytes = maxBytes * FLUSH_HURRY_SHARE;
    budget.register(this);
  }

  /** Bytes accepted but not yet handed to the kernel (queued here plus buffered in the socket). */
  get pendingBytes(): number {
    return this.queuedBytes + this.socket.writableLength;
  }

  /** Whether the outbox still accepts frames. */
  get isOpen(): boolean {
    return this.state === 'open';
  }

  /** The bytes this outbox counts in the server's budget now. */
  get countedBytes(): number {
    return this.counted;
  }

  /** When the socket last pushed back (the budget's `clock.now()`), while we still wait for `'drain'`; else undefined. */
  get waitingSince(): number | undefined {
    return this.waitingForDrain ? this.blockedAt : undefined;
  }

  /**
   * Queues bytes for the next run's write. Returns false when they were dropped: the outbox is closed,
   * the socket is gone, or this would pass the bound (which triggers the overflow).
   */
  push(bytes: Buffer): boolean {
    if (this.state !== 'open') return false;
    // The socket is checked once per run (at the first push, and again by the flush), not per
    // frame: `writable` is a getter over the stream's state, and a broadcast pushes thousands.
    if (!this.inSchedule && !this.socket.writable) return false;
    const length = bytes.length;
    // socketBytes is an upper bound of the socket's buffer, so the exact (slower) getter is only
    // read near the bound; the bound itself trips exactly where it did.
    if (this.queuedBytes + this.socketBytes + length > this.maxBytes && this.pendingBytes + length > this.maxBytes) {
      this.overflow(undefined);
      return false;
    }
    this.chunks.push(bytes);
    this.queuedBytes += length;
    this.counted += length;
    this.budget.add(length);
    if (this.waitingForDrain) return true;
    if (!this.inSchedule) {
      this.inSchedule = true;
      this.scheduler.schedule(this);
    } else if (this.queuedBytes > this.hurryBytes || this.budget.paused) this.scheduler.hurry();
    return true;
  }

  /** Writes everything queued as one write, unless the socket asked us to wait for `'drain'`. */
  flush(): void {
    this.inSchedule = false;
    if (this.waitingForDrain || this.queuedBytes === 0) return;
    if (!this.socket.writable) {
      this.discard();
      return;
    }
    this.scheduler.commit();
    const data = this.takeQueued();
    if (!this.socket.write(data)) {
      this.waitingForDrain = true;
      this.blockedAt = this.budget.clock.now();
      // Listened for only while blocked: an idle connection holds no listener closure.
      this.socket.once('drain', () => this.drained());
    }
    this.socketBytes = this.socket.writableLength;
    this.recount();
  }

  private drained(): void {
    this.waitingForDrain = false;
    this.socketBytes = 0;
    this.recount();
    this.flush();
  }

  /**
   * Closes the outbox for good. With `flush`, whatever is queued is handed to the socket now (even
   * while waiting for 'drain': it is bounded, and the connection is ending), plus `last` if given;
   * otherwise the queue is dropped. The caller then ends the socket.
   */
  close(options: { flush: boolean; last?: Buffer }): void {
    if (this.state === 'closed') return;
    const keep = options.flush && this.state === 'open';
    this.state = 'closed';
    this.budget.unregister(this);
    if (!this.socket.writable) {
      this.discard();
      return;
    }
    if (keep && this.queuedBytes > 0) {
      this.scheduler.commit();
      this.socket.write(this.takeQueued());
    } else this.discard();
    if (options.last) {
      this.scheduler.commit();
      this.socket.write(options.last);
    }
    this.recount();
  }

  /** Called by the budget: this client is stuck and in everyone's way; drop its queue and cut it off. */
  cutOff(stalledMs: number): void {
    this.overflow(stalledMs);
  }

  private overflow(stalledMs: number | undefined): void {
    if (this.state !== 'open') return;
    this.state = 'overflowed';
    const pendingBytes = this.pendingBytes;
    // Only frames never handed to the socket are dropped. The socket keeps what it has: whole
    // frames, as every write is a concatenation of whole frames, so a last frame written after
    // them (the error that tells the client why) still arrives whole.
    this.discard();
    process.nextTick(this.onOverflow, stalledMs === undefined ? { pendingBytes } : { pendingBytes, stalledMs });
  }

  /** Brings this outbox's share of the budget up to date (nothing once it stopped accepting). */
  private recount(): void {
    const now = this.state === 'open' ? this.queuedBytes + (this.waitingForDrain ? this.socketBytes : 0) : 0;
    const change = now - this.counted;
    if (change === 0) return;
    this.counted = now;
    if (change > 0) this.budget.add(change);
    else this.budget.remove(-change);
  }

  private takeQueued(): Buffer {
    const data = this.chunks.length === 1 ? (this.chunks[0] as Buffer) : this.scheduler.concat.join(this.chunks, this.queuedBytes);
    this.chunks = [];
    this.queuedBytes = 0;
    return data;
  }

  private discard(): void {
    this.chunks = [];
    this.queuedBytes = 0;
    this.recount();
  }
}
