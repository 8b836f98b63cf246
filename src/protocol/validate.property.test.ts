/**
 * Properties of the validator on generated frames (fast-check): every valid client frame comes
 * back unchanged; every invalid request gets exactly one documented error (`unknown_type` or
 * `bad_request`), whose id is the one a server must echo and whose answer is itself a valid,
 * well-formed frame that fits the size limit.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { anyClientFrame, invalidRequest } from '../../test-support/frame-arbitraries.ts';
import { CORE_ERROR_CODES, FrameDecoder, encodeFrame, isRequestId, validateClientFrame, validateServerFrame } from './index.ts';

const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

describe('validator properties', () => {
  it('accepts every valid client frame and returns it unchanged, unknown fields dropped', () => {
    fc.assert(
      fc.property(anyClientFrame, fc.dictionary(fc.stringMatching(/^x_[a-z]{1,6}$/), fc.jsonValue({ maxDepth: 1 })), (frame, extra) => {
        expect(validateClientFrame({ ...extra, ...frame })).toEqual({ ok: true, frame });
      }),
      { numRuns: 300 },
    );
  });

  it('answers every invalid request with exactly one documented error, the right id, in a valid error frame', () => {
    fc.assert(
      fc.property(invalidRequest, (invalid) => {
        const decoded = new FrameDecoder().push(Buffer.concat([invalid.line, Buffer.from('\n')]));
        expect(decoded).toHaveLength(1);
        const [result] = decoded;
        if (!result?.ok) return expect.fail(`${invalid.kind}: the decoder refused it (${result?.code})`);
        const validation = validateClientFrame(result.frame);
        expect(validation.ok, invalid.kind).toBe(false);
        if (validation.ok) return;
        expect(validation.code, `${invalid.kind}: ${validation.message}`).toBe(invalid.code);
        expect(CORE_ERROR_CODES).toContain(validation.code);
        // The id a server echoes is the one isRequestId accepts: the oracle and the server agree.
        const id = isRequestId(result.frame.id) ? result.frame.id : undefined;
        expect(id).toEqual(invalid.id);
        const answer = { type: 'error', code: validation.code, message: validation.message, ...(id !== undefined && { id }) };
        expect(LONE_SURROGATE.test(validation.message)).toBe(false);
        expect(validateServerFrame(encodeFrameRoundTrip(answer)).ok).toBe(true);
      }),
      { numRuns: 400 },
    );
  });
});

/** Encodes and decodes a frame (throws if it does not fit the size limit). */
function encodeFrameRoundTrip(frame: { type: string; [field: string]: unknown }): { type: string; [field: string]: unknown } {
  return JSON.parse(encodeFrame(frame).toString('utf8')) as { type: string; [field: string]: unknown };
}
