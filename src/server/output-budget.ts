/**
 * Server-level backpressure: one account of the bytes queued in memory for all clients together.
 *
 * Why: a broadcast turns one `say` into N copies in user space. If the server read every `say` as
 * fast as senders write them, an offered load above capacity would pile up in the outboxes (up to
 * `maxOutputBytes` per client), the long queues would cost copies and garbage collection, and
 * throughput would fall below its own peak while memory grows. Instead, above a high-water mark
 * the server stops taking input: frames already read wait in their connection's inbox, the rest
 * waits in the kernel and in the senders, and nothing is lost. Below the low-water mark (the
 * writes having drained the queues) input resumes. That is what a C server like ngircd gets for
 * free by reading no faster than it can relay.
 *
 * The slow-consumer deadlock: clients that never read would keep the total above the low-water
 * mark forever, and their input pause would stall everyone. So, while input is paused, a check runs
 * every quarter of `stallMs`: an outbox whose socket has not drained for `stallMs` is *stuck*. If the
 * stuck outboxes are what keeps the total above the low-water mark (the others alone are below
 * it), the largest stuck ones are cut off (`output_overflow`) until the total is below. A stuck
 * client that is not in the way is left alone (it may still catch up; `maxOutputBytes` still
 * bounds it), and clients that read slowly but steadily never count as stuck: their socket drains.
 * So the output queued in memory stays bounded by the high-water mark (plus one frame's fan-out,
 * and what each socket took below its own 16 KiB highWaterMark), and a few dead clients can hold
 * everyone's input for about `stallMs` at most.
 */

import { SYSTEM_CLOCK, type Clock, type TimerHandle } from './clock.ts';

/** Something whose input waits while the budget is paused (a connection). */
export interface InputConsumer {
  /** Called once the budget has room again; the consumer reads and handles its input again. */
  resumeInput(): void;
}

/** What the budget needs of an outbox to find stuck ones. */
export interface BudgetedOutbox {
  /** The budget's `clock.now()` when its socket last reported back-pressure, while still waiting for `'drain'`; else undefined. */
  readonly waitingSince: number | undefined;
  /** The bytes this outbox counts in the budget now. */
  readonly countedBytes: number;
  /** Drops this outbox's queue and has its client cut off (`output_overflow`); `stalledMs` says for how long it was stuck. */
  cutOff(stalledMs: number): void;
}

/** The thresholds of an {@link OutputBudget} (from `ServerLimits`). */
export interface OutputBudgetLimits {
  /** Input pauses when the total passes this. */
  outputHighWaterBytes: number;
  /** Input resumes when the total falls to this. */
  outputLowWaterBytes: number;
  /** How long an outbox may wait for `'drain'`, while input is paused, before it counts as stuck. */
  outputStallMs: number;
}

/** A snapshot of the budget, for tests, benchmarks and monitoring. */
export interface OutputStats {
  /** Bytes queued in memory for all clients now (see {@link OutputBudget}). */
  queuedBytes: number;
  /** The most bytes ever queued at once. */
  peakQueuedBytes: number;
  /** Whether input is paused now. */
  paused: boolean;
  /** How many times input was paused. */
  pauses: number;
  /** How many clients were cut off for being stuck while input was paused. */
  stallCutoffs: number;
}

const UNLIMITED: OutputBudgetLimits = { outputHighWaterBytes: Infinity, outputLowWaterBytes: Infinity, outputStallMs: Infinity };

/**
 * The server's account of queued output bytes. Outboxes keep it up to date incrementally
 * ({@link add} / {@link remove}, O(1)); connections ask {@link paused} before handling each frame
 * and {@link park} themselves while it is true. See the module comment for the design.
 */
export class OutputBudget {
  private bytes = 0;
  private peak = 0;
  private isPaused = false;
  private pauseCount = 0;
  private cutoffCount = 0;
  private resumeScheduled = false;
  private stallTimer: TimerHandle | undefined;
  /** Consumers waiting for room, first come first served (a queue: array + head). */
  private parked: InputConsumer[] = [];
  private parkedHead = 0;
  private readonly outboxes = new Set<BudgetedOutbox>();
  private readonly high: number;
  private readonly low: number;
  private readonly stallMs: number;

  /**
   * @param limits the thresholds; without them the budget only counts (it never pauses).
   * @param clock the time of the stuck-client check; outboxes stamp their waits with it too.
   */
  constructor(
    limits: OutputBudgetLimits = UNLIMITED,
    readonly clock: Clock = SYSTEM_CLOCK,
  ) {
    this.high = limits.outputHighWaterBytes;
    this.low = limits.outputLowWaterBytes;
    this.stallMs = limits.outputStallMs;
  }

  /** Whether input is paused: connections must not handle more frames until they are resumed. */
  get paused(): boolean {
    return this.isPaused;
  }

  /** Bytes queued for all clients now. */
  get queuedBytes(): number {
    return this.bytes;
  }

  /** A snapshot of the counters. */
  get stats(): OutputStats {
    return { queuedBytes: this.bytes, peakQueuedBytes: this.peak, paused: this.isPaused, pauses: this.pauseCount, stallCutoffs: this.cutoffCount };
  }

  /** Counts bytes an outbox took on; pauses input once the total passes the high-water mark. */
  add(bytes: number): void {
    const total = (this.bytes += bytes);
    if (total > this.peak) this.peak = total;
    if (total > this.high && !this.isPaused) this.pause();
  }

  /** Uncounts bytes an outbox wrote or dropped; below the low-water mark, input resumes (on the next turn). */
  remove(bytes: number): void {
    this.bytes -= bytes;
    if (this.isPaused && this.bytes <= this.low && !this.resumeScheduled) {
      // Never synchronously: this runs inside an outbox's flush, which must not re-enter the core.
      this.resumeScheduled = true;
      setImmediate(this.resume);
    }
  }

  /** Queues a consumer to be resumed once there is room again. */
  park(consumer: InputConsumer): void {
    this.parked.push(consumer);
  }

  /** Makes an outbox a candidate for the stuck-client check. */
  register(outbox: BudgetedOutbox): void {
    this.outboxes.add(outbox);
  }

  /** Forgets an outbox (it closed). */
  unregister(outbox: BudgetedOutbox): void {
    this.outboxes.delete(outbox);
  }

  /** Stops the stuck-client timer (the server is stopping). */
  dispose(): void {
    this.cancelStallCheck();
  }

  private pause(): void {
    this.isPaused = true;
    this.pauseCount++;
    if (Number.isFinite(this.stallMs)) this.armStallCheck();
  }

  private readonly resume = (): void => {
    this.resumeScheduled = false;
    if (!this.isPaused || this.bytes > this.low) return;
    this.isPaused = false;
    this.cancelStallCheck();
    // First come, first served: whoever is not reached before the budget fills again stays at the
    // head of the queue, and those that park again go to its tail, so no sender is starved.
    while (!this.isPaused && this.parkedHead < this.parked.length) {
      const consumer = this.parked[this.parkedHead++] as InputConsumer;
      consumer.resumeInput();
    }
    this.parked = this.parked.slice(this.parkedHead);
    this.parkedHead = 0;
  };

  private cancelStallCheck(): void {
    this.clock.clearTimer(this.stallTimer);
    this.stallTimer = undefined;
  }

  private armStallCheck(): void {
    this.stallTimer ??= this.clock.setTimer(Math.max(1, this.stallMs / 4), this.checkStalls);
  }

  private readonly checkStalls = (): void => {
    this.stallTimer = undefined;
    if (!this.isPaused) return;
    const now = this.clock.now();
    const stuck: { outbox: BudgetedOutbox; stalledMs: number; bytes: number }[] = [];
    let stuckBytes = 0;
    for (const outbox of this.outboxes) {
      const since = outbox.waitingSince;
      const bytes = outbox.countedBytes;
      if (since === undefined || bytes === 0 || now - since < this.stallMs) continue;
      stuck.push({ outbox, stalledMs: now - since, bytes });
      stuckBytes += bytes;
    }
    // Only when the stuck clients are what holds the total up: otherwise the others are still
    // draining and input resumes without cutting anyone.
    if (stuck.length > 0 && this.bytes - stuckBytes <= this.low) {
      stuck.sort((a, b) => b.bytes - a.bytes);
      for (const { outbox, stalledMs } of stuck) {
        if (this.bytes <= this.low) break;
        this.cutoffCount++;
        outbox.cutOff(stalledMs);
      }
    }
    if (this.isPaused) this.armStallCheck();
  };
}
