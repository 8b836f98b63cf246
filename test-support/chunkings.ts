/**
 * Ways to cut one byte stream into TCP-like reads, for proving that a streaming parser gives the
 * same result however its input arrives.
 *
 * ```ts
 * for (const { label, chunks } of chunkings(input)) {
 *   const got = parseAll(chunks);          // compare with parseAll([input]), naming `label` on failure
 * }
 * ```
 */

/**
 * Where the tests cut a stream in two: at every byte offset for a stream of up to 4 KiB; for the
 * big limit-sized ones (every offset would be quadratic), at every offset near the start, the end
 * and each newline (where a line limit is decided), plus a stride through the middle. Run the same
 * fixture shapes with a small limit too, where every offset is tried.
 */
export function splitOffsets(bytes: Buffer): number[] {
  if (bytes.length <= 4096) return Array.from({ length: bytes.length + 1 }, (_, k) => k);
  const offsets = new Set<number>();
  const around = (at: number) => {
    for (let k = at - 96; k <= at + 96; k++) if (k >= 0 && k <= bytes.length) offsets.add(k);
  };
  around(0);
  around(bytes.length);
  for (let at = bytes.indexOf(0x0a); at !== -1; at = bytes.indexOf(0x0a, at + 1)) around(at);
  for (let k = 0; k < bytes.length; k += 1009) offsets.add(k);
  return [...offsets].sort((a, b) => a - b);
}

/**
 * Every way the tests cut a stream: whole (only with `whole: true`), in two at each
 * {@link splitOffsets split offset}, and byte by byte.
 */
export function* chunkings(bytes: Buffer, options: { whole?: boolean } = {}): Generator<{ label: string; chunks: Buffer[] }> {
  if (options.whole) yield { label: 'whole', chunks: [bytes] };
  for (const k of splitOffsets(bytes)) yield { label: `split at ${k}`, chunks: [bytes.subarray(0, k), bytes.subarray(k)] };
  yield { label: 'byte by byte', chunks: Array.from({ length: bytes.length }, (_, i) => bytes.subarray(i, i + 1)) };
}
