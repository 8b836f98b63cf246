import { describe, expect, it } from 'vitest';
import { closeReason } from './bridge.ts';

describe('closeReason', () => {
  it('keeps a short reason, and cuts a long one to 123 bytes without splitting a character', () => {
    expect(closeReason('could not reach 127.0.0.1:7070 (ECONNREFUSED)')).toBe('could not reach 127.0.0.1:7070 (ECONNREFUSED)');
    const long = closeReason(`could not reach ${'é'.repeat(200)}.example:7070 (ENOTFOUND)`);
    expect(Buffer.byteLength(long)).toBeLessThanOrEqual(123);
    expect(long).toMatch(/^could not reach é+…$/);
  });
});
