import { describe, expect, it } from 'vitest';
import { parseCommand } from './commands.ts';

describe('parseCommand', () => {
  const cases: [string, unknown][] = [
    ['hello 👋', { kind: 'say', text: 'hello 👋' }],
    ['   ', { kind: 'empty' }],
    ['//slash', { kind: 'say', text: '/slash' }],
    ['/msg bob hi  there', { kind: 'msg', to: 'bob', text: 'hi  there' }],
    ['/m bob psst', { kind: 'msg', to: 'bob', text: 'psst' }],
    ['/msg #Rust hello', { kind: 'room_say', room: 'rust', text: 'hello' }],
    ['/join #rust', { kind: 'join', room: 'rust' }],
    ['/JOIN Rust', { kind: 'join', room: 'rust' }],
    ['/leave', { kind: 'leave' }],
    ['/leave rust', { kind: 'leave', room: 'rust' }],
    ['/room', { kind: 'switch' }],
    ['/room lobby', { kind: 'switch', room: 'lobby' }],
    ['/rooms', { kind: 'rooms' }],
    ['/who', { kind: 'who' }],
    ['/who #rust', { kind: 'who', room: 'rust' }],
    ['/send bob ./my cat.png', { kind: 'send', target: { to: 'bob' }, path: './my cat.png' }],
    ['/send #rust "a b.txt"', { kind: 'send', target: { room: 'rust' }, path: 'a b.txt' }],
    ['/send @rust x', { kind: 'send', target: { to: 'rust' }, path: 'x', explicitUser: true }],
    ['/accept', { kind: 'accept' }],
    ['/accept t7', { kind: 'accept', transfer: 't7' }],
    ['/decline t7', { kind: 'decline', transfer: 't7' }],
    ['/cancel', { kind: 'cancel' }],
    ['/history', { kind: 'history' }],
    ['/history #rust 20', { kind: 'history', room: 'rust', limit: 20 }],
    ['/history bob', { kind: 'history', to: 'bob' }],
    ['/ping', { kind: 'ping' }],
    ['/quit', { kind: 'quit' }],
    ['/exit', { kind: 'quit' }],
    ['/help', { kind: 'help' }],
    ['/nope', { kind: 'unknown', name: '/nope' }],
  ];
  it.each(cases)('%s', (line, expected) => expect(parseCommand(line)).toEqual(expected));

  const invalid: [string, RegExp][] = [
    ['/msg bob', /^\/msg needs a recipient and a text; usage: \/msg USER TEXT$/],
    ['/msg bad!name hi', /"bad!name" is not a user name/],
    ['/join', /\/join needs a room; usage: \/join ROOM$/],
    ['/join a b', /takes one room/],
    ['/join ../etc', /is not a room name/],
    ['/send bob', /\/send needs a recipient and a file/],
    ['/history 0', /N must be at least 1/],
    ['/accept a b', /at most one transfer id/],
  ];
  it.each(invalid)('%s is refused with its usage', (line, message) => {
    const command = parseCommand(line);
    expect(command.kind).toBe('invalid');
    expect((command as { message: string }).message).toMatch(message);
  });
});
