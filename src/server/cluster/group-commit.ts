/**
 * Group commit: the writes asked for while one is on its way are gathered and sent as ONE call,
 * which answers each of them. At low load a write goes out alone at the end of the event-loop turn
 * it was asked in (no timer: the writes of that turn go with it); under load the writes asked for
 * during a round trip go together when it ends, so batches grow by themselves with the load and the
 * number of calls per second stays about one per round trip.
 *
 * Order: items are sent in the order they were added (batches in that order, each batch in that
 * order), and at most one batch is in flight unless {@link GroupCommit.sendNow} is asked for (a
 * command that must run after every item added before it). On one ordered link (a Redis connection)
 * the items therefore run in the order they were added.
 */

/** How a {@link GroupCommit} sends one batch: answers one result per item, in order, or rejects (every item of the batch fails). */
export type SendBatch<Item, Result> = (items: readonly Item[]) => Promise<readonly Result[]>;

/** Bounds of one batch (one call). */
export interface BatchBounds {
  /** Items per batch at most. */
  maxItems: number;
  /** Sum of the items' sizes per batch at most (an item bigger than that alone goes alone). */
  maxBytes: number;
}

interface Waiting<Item, Result> {
  item: Item;
  bytes: number;
  resolve: (result: Result) => void;
  reject: (error: unknown) => void;
}

/** Gathers items into batches sent one at a time (see the module comment). */
export class GroupCommit<Item, Result> {
  private waiting: Array<Waiting<Item, Result>> = [];
  private inFlight = 0;
  private scheduled = false;
  private sent = 0;

  /**
   * @param send sends one batch (see {@link SendBatch}).
   * @param sizeOf the size of one item, as {@link BatchBounds.maxBytes} counts it.
   * @param bounds the bounds of one batch.
   */
  constructor(
    private readonly send: SendBatch<Item, Result>,
    private readonly sizeOf: (item: Item) => number,
    private readonly bounds: BatchBounds,
  ) {}

  /** Batches sent so far (for statistics and tests). */
  get batches(): number {
    return this.sent;
  }

  /** Adds an item; the promise settles with its batch (its result, or the batch's failure). */
  add(item: Item): Promise<Result> {
    return new Promise<Result>((resolve, reject) => {
      this.waiting.push({ item, bytes: this.sizeOf(item), resolve, reject });
      if (this.inFlight === 0 && !this.scheduled) {
        this.scheduled = true;
        setImmediate(this.sendAtEndOfTurn);
      }
    });
  }

  /** Sends every item waiting now, whatever is in flight: whatever the caller sends next on the same link runs after them. */
  sendNow(): void {
    while (this.waiting.length > 0) this.sendBatch();
  }

  private readonly sendAtEndOfTurn = (): void => {
    this.scheduled = false;
    if (this.inFlight === 0 && this.waiting.length > 0) this.sendBatch();
  };

  /** Sends the oldest waiting items, as many as the bounds allow (at least one). */
  private sendBatch(): void {
    let count = 0;
    let bytes = 0;
    for (const waiting of this.waiting) {
      if (count > 0 && (count >= this.bounds.maxItems || bytes + waiting.bytes > this.bounds.maxBytes)) break;
      count++;
      bytes += waiting.bytes;
    }
    const batch = this.waiting.splice(0, count);
    this.inFlight++;
    this.sent++;
    let answer: Promise<readonly Result[]>;
    try {
      answer = this.send(batch.map((waiting) => waiting.item));
    } catch (error) {
      answer = Promise.reject(error);
    }
    answer.then(
      (results) => this.answered(batch, results),
      (error: unknown) => this.failed(batch, error),
    );
  }

  private answered(batch: ReadonlyArray<Waiting<Item, Result>>, results: readonly Result[]): void {
    if (results.length !== batch.length) return this.failed(batch, new Error(`a batch of ${batch.length} items was answered with ${results.length} results`));
    batch.forEach((waiting, i) => waiting.resolve(results[i] as Result));
    this.settled();
  }

  private failed(batch: ReadonlyArray<Waiting<Item, Result>>, error: unknown): void {
    for (const waiting of batch) waiting.reject(error);
    this.settled();
  }

  /** A batch came back: what was asked for meanwhile has waited a round trip already, and goes now. */
  private settled(): void {
    this.inFlight--;
    if (this.inFlight === 0 && this.waiting.length > 0) this.sendBatch();
  }
}
