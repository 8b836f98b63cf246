/**
 * Records a node's spooled messages (see `outage-spool.ts`) in Redis once it is reachable again,
 * and at start-up for the rows a node that is gone left in a shared spool file: in spool order,
 * each through the message store (it gets its msgid then; its `ts` stays the one it was said at),
 * then relayed to those who have not had it yet:
 *
 * - a message this node kept: its own users had it live (without a msgid), so it goes only to the
 *   other nodes: a room's message on the channel (every other node gives it to its members of the
 *   room); a private one to its recipient if it is online on another node (or came to this one
 *   since), recorded `queued` if it is offline, and not relayed at all if the recipient had it here;
 * - a message claimed from a node that is gone: its users are gone too, so it goes to everyone it
 *   is for, this node's users included (the sender excepted).
 *
 * Each row is recorded with its token; a row that may be stored already (uncertain: its first
 * record's answer was lost) is recorded with a search for its token first, and relayed with the
 * msgid found. A row is deleted once Redis answered. The rows of a batch are marked sent before
 * their records go: a node that dies before deleting them leaves them to be claimed uncertain, and
 * a record of the flush whose answer is lost marks its row uncertain; either way the next flush
 * finds what was committed instead of storing it twice.
 */
import { encodeFrame, type MessageFrame } from '../../protocol/index.ts';
import { DEFERRED, isPending, type MessageStore, type Recorded } from '../message-store.ts';
import { OutcomeUnknownError, UnavailableError } from '../unavailable.ts';
import type { ClusterHub, OutgoingHeader } from './cluster-hub.ts';
import type { OutageSpool, SpooledMessage } from './outage-spool.ts';

/** Records issued to Redis at once while flushing (pipelined on its one connection, in spool order). */
export const FLUSH_BATCH = 64;

/** What the flusher needs of the backplane. */
export interface FlushChannel {
  /** Whether Redis is reachable now. */
  readonly available: boolean;
  /** Publishes to every other node. */
  publish(header: OutgoingHeader, frame?: Buffer): void;
  log(line: string): void;
}

/** Flushes one node's spool (see the module comment). */
export class SpoolFlusher {
  private running: Promise<void> | undefined;
  private readonly timer: NodeJS.Timeout;
  private closed = false;

  /**
   * `tickMs`: how often it renews the node's lease in the spool and looks for rows to record
   * (its own, or those of a node whose lease ran out), while Redis is reachable.
   */
  constructor(
    private readonly spool: OutageSpool,
    private readonly store: MessageStore,
    private readonly hub: ClusterHub,
    private readonly channel: FlushChannel,
    tickMs: number,
  ) {
    this.timer = setInterval(this.tick, tickMs);
    this.timer.unref();
  }

  /** Whether a flush is running (a new message must then wait behind the spool). */
  get busy(): boolean {
    return this.running !== undefined;
  }

  /** Flushes now if Redis is reachable (nothing if a flush is running: it goes on until the spool is empty). */
  flush(): Promise<void> {
    if (this.closed || !this.channel.available) return Promise.resolve();
    this.running ??= this.drain()
      .catch(this.failed)
      .finally(() => (this.running = undefined));
    return this.running;
  }

  /** Stops the timer; rows left stay in the spool. */
  close(): void {
    this.closed = true;
    clearInterval(this.timer);
  }

  private readonly tick = (): void => {
    try {
      this.spool.renew();
      if (this.spool.holds || this.spool.hasOthers()) void this.flush();
    } catch (error) {
      this.failed(error);
    }
  };

  /** The spool file failed (busy beyond its timeout, a disk error): said once per attempt; the next tick retries. */
  private readonly failed = (error: unknown): void => {
    this.channel.log(`chatlab cluster: the spool of deferred messages failed: ${error instanceof Error ? error.message : String(error)}; retrying shortly`);
  };

  private async drain(): Promise<void> {
    let recorded = 0;
    try {
      for (;;) {
        if (this.closed || !this.channel.available) return;
        this.spool.claimOrphans();
        const batch = this.spool.oldest(FLUSH_BATCH);
        if (batch.length === 0) return;
        this.spool.markSent(batch);
        // Issued in this turn, in spool order: one Redis connection runs them in that order.
        const records = batch.map((message) => this.record(message));
        let failed: unknown;
        for (const [i, pending] of records.entries()) {
          const message = batch[i] as SpooledMessage;
          try {
            const msgid = await pending;
            if (msgid === DEFERRED) throw new UnavailableError('the store deferred it again');
            this.relay(message, msgid);
            this.spool.remove(message);
            recorded++;
          } catch (error) {
            if (error instanceof OutcomeUnknownError) this.spool.markUncertain(message);
            failed ??= error;
          }
        }
        if (failed !== undefined) {
          if (!(failed instanceof UnavailableError)) this.channel.log(`chatlab cluster: recording spooled messages failed: ${failed instanceof Error ? failed.message : String(failed)}`);
          return;
        }
      }
    } finally {
      if (recorded > 0) this.channel.log(`chatlab cluster: recorded ${recorded} deferred message(s) from the spool; ${this.spool.size} left`);
    }
  }

  private record(message: SpooledMessage): Promise<Recorded> {
    const delivered = message.room !== undefined || message.deliveredHere || this.hub.isOnline(message.to as string);
    const { ts, from, text, token, uncertain } = message;
    const recorded = this.store.record({ ts, from, text, delivered, token, uncertain, ...(message.room !== undefined ? { room: message.room } : { to: message.to as string }) });
    if (!isPending(recorded)) return Promise.resolve(recorded);
    recorded.catch(ignoreHere); // awaited in order by drain(); a rejection meanwhile is not unhandled
    return recorded;
  }

  private relay(message: SpooledMessage, msgid: number): void {
    const { ts, from, text } = message;
    if (message.room !== undefined) {
      const frame: MessageFrame = { type: 'message', from, room: message.room, text, ts, msgid };
      if (message.own) this.channel.publish({ k: 'r', r: message.room }, encodeFrame(frame));
      else this.hub.send(frame, { room: message.room }, this.hub.member(from));
      return;
    }
    if (message.deliveredHere) return;
    const to = message.to as string;
    const target = this.hub.member(to);
    if (target) this.hub.sendTo({ type: 'message', from, to, text, ts, msgid }, [target]);
  }
}

/** A rejection handled elsewhere (awaited further on). */
function ignoreHere(): void {}
