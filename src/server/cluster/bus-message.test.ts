import { describe, expect, it } from 'vitest';
import { decodeBusMessage, encodeBusBatch, encodeBusMessage, splitBusBatch } from './bus-message.ts';

describe('bus messages', () => {
  it('carries several messages of a node as one `many`, each split back exactly as it was made', () => {
    const parts = [encodeBusMessage({ n: 'A/1', k: 'r', r: 'lobby' }, Buffer.from('{"type":"message","text":"é"}\n')), encodeBusMessage({ n: 'A/1', k: 'acct', u: 'zoë' })];
    const decoded = decodeBusMessage(encodeBusBatch('A/1', parts));
    expect(decoded?.header).toEqual({ n: 'A/1', k: 'many', l: parts.map((part) => part.length) });
    const split = splitBusBatch((decoded?.header as { l: unknown }).l, decoded?.frame as Buffer);
    expect(split?.map((part) => part.toString())).toEqual(parts.map((part) => part.toString()));
  });

  it('refuses lengths that do not add up to the body', () => {
    const body = Buffer.from('abcdef');
    expect(splitBusBatch([2, 4], body)?.map(String)).toEqual(['ab', 'cdef']);
    for (const lengths of [[2, 3], [2, 5], [0, 6], [-1, 7], [1.5, 4.5], 'x', undefined]) expect(splitBusBatch(lengths, body)).toBeUndefined();
  });
});
