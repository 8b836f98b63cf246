/** How much a {@link Recent} keeps: at most `items` entries and `bytes` bytes (the newest entry is always kept). */
export interface RecentLimits {
  items: number;
  bytes: number;
}

/**
 * The most recent entries of an unbounded stream, within a count and a byte budget: pushing
 * past either drops the oldest entries, and counts what was dropped so a report can say
 * "… 123,456 earlier frames not shown". The verifier only ever shows the last frames of a run,
 * so this is all it keeps of a peer that never stops sending.
 */
export class Recent<T> {
  private entries: T[] = [];
  private sizes: number[] = [];
  /** Index of the oldest kept entry in `entries` (dropped ones before it are compacted away lazily). */
  private head = 0;
  private keptBytes = 0;
  /** Entries dropped so far, and their bytes. */
  readonly dropped = { items: 0, bytes: 0 };

  constructor(
    readonly limits: RecentLimits,
    /** Called with each entry as it is dropped. */
    private readonly onDrop?: (entry: T) => void,
  ) {}

  /** Number of entries kept. */
  get length(): number {
    return this.entries.length - this.head;
  }

  /** Bytes kept. */
  get bytes(): number {
    return this.keptBytes;
  }

  /** Adds the newest entry (`bytes` is what it costs against the byte budget), dropping the oldest ones over the limits. */
  push(entry: T, bytes: number): void {
    this.entries.push(entry);
    this.sizes.push(bytes);
    this.keptBytes += bytes;
    while (this.length > 1 && (this.length > this.limits.items || this.keptBytes > this.limits.bytes)) this.dropOldest();
    // Compact once the dropped prefix outweighs what is kept: amortised O(1) per push.
    if (this.head > 64 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.sizes = this.sizes.slice(this.head);
      this.head = 0;
    }
  }

  /** The kept entries, oldest first (a copy). */
  toArray(): T[] {
    return this.entries.slice(this.head);
  }

  /** The first kept entry that `match` accepts, oldest first. */
  find(match: (entry: T) => boolean): T | undefined {
    for (let i = this.head; i < this.entries.length; i++) if (match(this.entries[i] as T)) return this.entries[i];
    return undefined;
  }

  /** The kept entry at `index` (negative counts from the newest), like Array.prototype.at. */
  at(index: number): T | undefined {
    const i = index < 0 ? this.entries.length + index : this.head + index;
    return i >= this.head && i < this.entries.length ? this.entries[i] : undefined;
  }

  private dropOldest(): void {
    const entry = this.entries[this.head] as T;
    const size = this.sizes[this.head] as number;
    this.entries[this.head] = undefined as T;
    this.head++;
    this.keptBytes -= size;
    this.dropped.items++;
    this.dropped.bytes += size;
    this.onDrop?.(entry);
  }
}
