/**
 * Concatenation shared by the outboxes flushed in one event-loop turn.
 *
 * Why: a broadcast pushes the very same encoded `Buffer` into every recipient's outbox, so after
 * a turn with k broadcasts most of the 1,000 outboxes of a room hold the same k buffers in the
 * same order (only the senders, who do not get their own messages, and clients that also got a
 * reply or a private message differ). Concatenating each queue on its own copied the same bytes
 * once per recipient: a copy and an allocation per delivery, plus the garbage. Instead the
 * flush asks this cache, which keeps the last list it joined and its result: a queue made of the
 * same buffers (compared by identity, k pointer comparisons) gets the same result `Buffer`, and
 * every socket writes that one buffer. The bytes written are unchanged.
 */
export class SharedConcat {
  private lastChunks: readonly Buffer[] = [];
  private lastLength = 0;
  private lastResult: Buffer | undefined;

  /**
   * The concatenation of `chunks` (`length` bytes in all), reusing the previous result when the
   * list holds the same buffers. The caller must not change `chunks` afterwards (outboxes start a
   * fresh array after each write).
   */
  join(chunks: readonly Buffer[], length: number): Buffer {
    if (this.lastResult !== undefined && length === this.lastLength && sameBuffers(chunks, this.lastChunks)) {
      return this.lastResult;
    }
    const result = Buffer.concat(chunks as Buffer[], length);
    this.lastChunks = chunks;
    this.lastLength = length;
    this.lastResult = result;
    return result;
  }

  /**
   * Forgets the last result. The scheduler calls it at the end of each flush pass, so a joined
   * buffer outlives its pass only after a flush on `'drain'`, and then only until the next pass.
   */
  clear(): void {
    this.lastChunks = [];
    this.lastLength = 0;
    this.lastResult = undefined;
  }
}

function sameBuffers(a: readonly Buffer[], b: readonly Buffer[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
