import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

/** Size in bytes and SHA-256 (lower-case hex) of a file, read as a stream (any size, little memory). */
export async function hashFile(path: string): Promise<{ size: number; sha256: string }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(path)) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { size, sha256: hash.digest('hex') };
}
