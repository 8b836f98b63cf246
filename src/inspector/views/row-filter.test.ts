import { describe, expect, it } from 'vitest';
import { SessionModel, type Row } from '../session-model.ts';
import { EventScript } from '../../../test-support/event-script.ts';
import { describeTypeFilter, isKeepAlive, keepAliveWanted, parseTypeFilter, passesTypeFilter, TypeFilterError } from './row-filter.ts';

/** A logged-in client that pings twice and says one thing: its frame rows. */
function pingSession() {
  const s = new EventScript().listening();
  s.connect(1).s2c(1, { type: 'hello', protocol: 'chatlab/1' });
  s.c2s(1, { type: 'login', user: 'bob', password: 'builder' }).s2c(1, { type: 'welcome', user: 'bob', users: ['bob'] });
  s.c2s(1, { type: 'ping', id: 1 }).s2c(1, { type: 'pong', id: 1 });
  s.c2s(1, { type: 'ping', id: 2 }).s2c(1, { type: 'pong', id: 2 });
  s.c2s(1, { type: 'say', text: 'hi', id: 3 }).s2c(1, { type: 'ok', id: 3 });
  const model = new SessionModel();
  for (const event of s.events) model.apply(event);
  return model.rows.filter((row) => row.kind === 'frame');
}

describe('row filters', () => {
  it('filters a lost datagram by the type of the frame it held', () => {
    const model = new SessionModel();
    model.apply({ kind: 'listening', t: 0, listen: { host: '127.0.0.1', port: 7071 }, target: { host: '127.0.0.1', port: 7070 }, framing: 'auto', transport: 'udp' });
    model.apply({ kind: 'open', t: 1, conn: 1, peer: '127.0.0.1:50000' });
    const lost = model.apply({ kind: 'datagram', t: 2, conn: 1, dir: 'c2s', seq: 1, bytes: Buffer.from('{"type":"say","text":"hi"}'), fate: 'lost' })[0] as Row;
    expect(lost).toMatchObject({ kind: 'lost', label: '✗ say' });
    expect(passesTypeFilter(lost, parseTypeFilter('say'))).toBe(true);
    expect(passesTypeFilter(lost, parseTypeFilter('-say'))).toBe(false);
  });

  it('tells keep-alive frames (ping, pong) from the rest', () => {
    const rows = pingSession();
    expect(rows.filter(isKeepAlive).map((r) => r.label)).toEqual(['ping', 'pong', 'ping', 'pong']);
    expect(rows.filter((r) => !isKeepAlive(r)).map((r) => r.label)).toEqual(['hello', 'login', 'welcome', 'say', 'ok']);
  });

  it('reads "say,message" as show only those, and "-ping" or "!ping" (each prefixed) as hide them', () => {
    expect(parseTypeFilter('say, message')).toEqual({ include: new Set(['say', 'message']) });
    expect(parseTypeFilter('-ping')).toEqual({ exclude: new Set(['ping']) });
    expect(parseTypeFilter('!ping,-pong')).toEqual({ exclude: new Set(['ping', 'pong']) });
    expect(describeTypeFilter(parseTypeFilter('-ping,-pong'))).toBe('all but ping, pong');
    expect(describeTypeFilter(parseTypeFilter('say'))).toBe('only say');
  });

  it('refuses an empty filter, an empty name and a mix of shown and hidden types', () => {
    expect(() => parseTypeFilter(' ')).toThrow(TypeFilterError);
    expect(() => parseTypeFilter('-')).toThrow(/empty type name/);
    expect(() => parseTypeFilter('say,-ping')).toThrow(/mixes types to show and to hide/);
  });

  it('passes rows by their type: included ones only, or all but the excluded ones', () => {
    const rows = pingSession();
    expect(rows.filter((r) => passesTypeFilter(r, parseTypeFilter('say,ok'))).map((r) => r.label)).toEqual(['say', 'ok']);
    expect(rows.filter((r) => passesTypeFilter(r, parseTypeFilter('-ping,!pong,-hello'))).map((r) => r.label)).toEqual(['login', 'welcome', 'say', 'ok']);
    expect(rows.every((r) => passesTypeFilter(r, undefined))).toBe(true);
  });

  it('draws keep-alive rows when asked for, or when the type filter names ping or pong', () => {
    expect(keepAliveWanted(false, undefined)).toBe(false);
    expect(keepAliveWanted(true, undefined)).toBe(true);
    expect(keepAliveWanted(false, parseTypeFilter('pong'))).toBe(true);
    expect(keepAliveWanted(false, parseTypeFilter('say'))).toBe(false);
    expect(keepAliveWanted(false, parseTypeFilter('-ping'))).toBe(false);
  });
});
