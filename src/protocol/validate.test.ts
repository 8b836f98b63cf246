import { describe, expect, it } from 'vitest';
import { CLIENT_FRAME_SPECS, MAX_TEXT_CHARS, SERVER_FRAME_SPECS, allowedBeforeLogin, codePointLength, isRequestId, validateClientFrame, validateServerFrame, type RawFrame } from './index.ts';

/** One validation case: `valid` gives the frame expected back (unknown fields dropped). */
interface Case {
  name: string;
  raw: RawFrame;
  valid?: RawFrame;
  error?: 'bad_request' | 'unknown_type';
  /** A word the error message must contain (usually the field name). */
  mentions?: string;
}

const ok = (name: string, raw: RawFrame, valid: RawFrame = raw): Case => ({ name, raw, valid });
const bad = (name: string, raw: RawFrame, mentions?: string): Case => ({ name, raw, error: 'bad_request', mentions });
const unknown = (name: string, raw: RawFrame): Case => ({ name, raw, error: 'unknown_type', mentions: raw.type });

const repeat = (s: string, n: number) => s.repeat(n);

const clientCases: Case[] = [
  // login
  ok('login', { type: 'login', user: 'alice', password: 'wonderland' }),
  ok('login with a string id', { type: 'login', user: 'alice', password: 'wonderland', id: 'a-1' }),
  ok('login with a number id', { type: 'login', user: 'alice', password: 'wonderland', id: 42 }),
  ok('login with id 0', { type: 'login', user: 'alice', password: 'w', id: 0 }),
  ok('user name of 1 character', { type: 'login', user: 'a', password: 'w' }),
  ok('user name of 32 characters', { type: 'login', user: repeat('a', 32), password: 'w' }),
  ok('user name with digits, _ and -', { type: 'login', user: 'Al_ice-99', password: 'w' }),
  ok('unknown login fields dropped', { type: 'login', user: 'alice', password: 'w', remember: true }, { type: 'login', user: 'alice', password: 'w' }),
  bad('login without user', { type: 'login', password: 'w' }, 'user'),
  bad('login without password', { type: 'login', user: 'alice' }, 'password'),
  bad('user name empty', { type: 'login', user: '', password: 'w' }, 'user'),
  bad('user name of 33 characters', { type: 'login', user: repeat('a', 33), password: 'w' }, 'user'),
  bad('user name with a space', { type: 'login', user: 'al ice', password: 'w' }, 'user'),
  bad('user name with a dot', { type: 'login', user: 'al.ice', password: 'w' }, 'user'),
  bad('user name with an accent', { type: 'login', user: 'alicé', password: 'w' }, 'user'),
  bad('user name with an emoji', { type: 'login', user: 'al👋', password: 'w' }, 'user'),
  bad('user name with a trailing newline', { type: 'login', user: 'alice\n', password: 'w' }, 'user'),
  bad('user name not a string', { type: 'login', user: 7, password: 'w' }, 'user'),
  bad('password empty', { type: 'login', user: 'alice', password: '' }, 'password'),
  bad('password not a string', { type: 'login', user: 'alice', password: 1234 }, 'password'),
  ok('password of 1024 characters', { type: 'login', user: 'alice', password: repeat('p', 1024) }),
  bad('password of 1025 characters', { type: 'login', user: 'alice', password: repeat('p', 1025) }, 'password'),
  bad('id as an object', { type: 'login', user: 'alice', password: 'w', id: { n: 1 } }, 'id'),
  bad('id as a boolean', { type: 'ping', id: true }, 'id'),
  bad('id null', { type: 'ping', id: null }, 'id'),
  ok('id of 64 characters', { type: 'ping', id: 'x'.repeat(64) }),
  ok('id of 64 emoji (code points, not UTF-16 units)', { type: 'ping', id: '👋'.repeat(64) }),
  bad('id of 65 characters', { type: 'ping', id: 'x'.repeat(65) }, 'id'),
  // register
  ok('register', { type: 'register', user: 'erin', password: 'secret' }),
  ok('register with id', { type: 'register', user: 'erin', password: 'secret', id: 3 }),
  bad('register with a 5-character password', { type: 'register', user: 'erin', password: '12345' }, 'password'),
  bad('register without user', { type: 'register', password: 'secret' }, 'user'),
  bad('register with a bad user name', { type: 'register', user: 'e rin', password: 'secret' }, 'user'),
  // say
  ok('say', { type: 'say', text: 'hello 👋' }),
  ok('say of 1 character', { type: 'say', text: 'x' }),
  ok(`say of ${MAX_TEXT_CHARS} characters`, { type: 'say', text: repeat('x', MAX_TEXT_CHARS) }),
  ok(`say of ${MAX_TEXT_CHARS} emoji (each counts as 1)`, { type: 'say', text: repeat('👋', MAX_TEXT_CHARS) }),
  ok('say with newlines inside', { type: 'say', text: 'line 1\nline 2' }),
  ok('private say', { type: 'say', text: 'psst', to: 'bob' }),
  ok('say to a room', { type: 'say', text: 'hi', room: 'lobby' }),
  ok('say with id', { type: 'say', text: 'hi', id: 'm1' }),
  ok('forged from is dropped', { type: 'say', text: 'hi', from: 'bob' }, { type: 'say', text: 'hi' }),
  ok('forged ts is dropped', { type: 'say', text: 'hi', ts: 1 }, { type: 'say', text: 'hi' }),
  bad('say without text', { type: 'say' }, 'text'),
  bad('say with empty text', { type: 'say', text: '' }, 'text'),
  bad(`say of ${MAX_TEXT_CHARS + 1} characters`, { type: 'say', text: repeat('x', MAX_TEXT_CHARS + 1) }, 'text'),
  bad(`say of ${MAX_TEXT_CHARS + 1} emoji`, { type: 'say', text: repeat('👋', MAX_TEXT_CHARS + 1) }, 'text'),
  bad('say with text a number', { type: 'say', text: 42 }, 'text'),
  bad('say with text an array', { type: 'say', text: ['hi'] }, 'text'),
  bad('say to a bad user name', { type: 'say', text: 'hi', to: 'b ob' }, 'to'),
  bad('say to a number', { type: 'say', text: 'hi', to: 1 }, 'to'),
  bad('say to an upper-case room', { type: 'say', text: 'hi', room: 'Lobby' }, 'room'),
  // quit, who, ping
  ok('quit', { type: 'quit' }),
  ok('quit with id', { type: 'quit', id: 9 }),
  ok('quit drops unknown fields', { type: 'quit', reason: 'bye' }, { type: 'quit' }),
  ok('who', { type: 'who' }),
  ok('who in a room', { type: 'who', room: 'lobby', id: 'w' }),
  bad('who in a bad room', { type: 'who', room: 'no room' }, 'room'),
  ok('ping', { type: 'ping' }),
  ok('ping with id', { type: 'ping', id: 'p' }),
  // extensions: login since, rooms, history, files
  ok('login with since', { type: 'login', user: 'alice', password: 'w', since: 42 }),
  bad('login with a negative since', { type: 'login', user: 'alice', password: 'w', since: -1 }, 'since'),
  bad('login with a fractional since', { type: 'login', user: 'alice', password: 'w', since: 1.5 }, 'since'),
  ok('join', { type: 'join', room: 'rust', id: 3 }),
  bad('join without room', { type: 'join' }, 'room'),
  bad('join an upper-case room', { type: 'join', room: 'Rust' }, 'room'),
  ok('leave', { type: 'leave', room: 'rust' }),
  bad('leave a room name with a space', { type: 'leave', room: 'r ust' }, 'room'),
  ok('rooms', { type: 'rooms', id: 5 }),
  bad('rooms with a bad id', { type: 'rooms', id: [] }, 'id'),
  ok('history of a room, paged', { type: 'history', room: 'rust', before: 10, limit: 20, id: 9 }),
  ok('history of a private conversation', { type: 'history', to: 'bob' }),
  bad('history with limit 0', { type: 'history', limit: 0 }, 'limit'),
  bad('history before a string', { type: 'history', before: '10' }, 'before'),
  ok('file_offer to a user', { type: 'file_offer', to: 'bob', name: 'cat.png', size: 12345, sha256: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', id: 1 }),
  ok('file_offer to a room, empty file', { type: 'file_offer', room: 'rust', name: 'empty', size: 0, sha256: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' }),
  bad('file_offer with an upper-case digest', { type: 'file_offer', to: 'bob', name: 'x', size: 1, sha256: 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' }, 'sha256'),
  bad('file_offer with a short digest', { type: 'file_offer', to: 'bob', name: 'x', size: 1, sha256: 'abc' }, 'sha256'),
  bad('file_offer with a negative size', { type: 'file_offer', to: 'bob', name: 'x', size: -1, sha256: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' }, 'size'),
  bad('file_offer with an empty name', { type: 'file_offer', to: 'bob', name: '', size: 1, sha256: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' }, 'name'),
  bad('file_offer with a 256-character name', { type: 'file_offer', to: 'bob', name: repeat('n', 256), size: 1, sha256: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' }, 'name'),
  ok('file_accept', { type: 'file_accept', transfer: 't7' }),
  bad('file_accept without transfer', { type: 'file_accept' }, 'transfer'),
  ok('file_decline', { type: 'file_decline', transfer: 't7', id: 2 }),
  bad('file_decline with a number transfer', { type: 'file_decline', transfer: 7 }, 'transfer'),
  ok('file_chunk', { type: 'file_chunk', transfer: 't7', seq: 0, data: 'aGVsbG8=' }),
  ok('file_chunk of 32 KiB', { type: 'file_chunk', transfer: 't7', seq: 1, data: Buffer.alloc(32 * 1024, 1).toString('base64') }),
  bad('file_chunk over 32 KiB', { type: 'file_chunk', transfer: 't7', seq: 1, data: Buffer.alloc(32 * 1024 + 1, 1).toString('base64') }, 'data'),
  bad('file_chunk that is not base64', { type: 'file_chunk', transfer: 't7', seq: 0, data: 'hello!' }, 'data'),
  bad('file_chunk with unpadded base64', { type: 'file_chunk', transfer: 't7', seq: 0, data: 'aGVsbG8' }, 'data'),
  bad('file_chunk without seq', { type: 'file_chunk', transfer: 't7', data: '' }, 'seq'),
  ok('file_ack', { type: 'file_ack', transfer: 't7', seq: 3 }),
  bad('file_ack with a fractional seq', { type: 'file_ack', transfer: 't7', seq: 0.5 }, 'seq'),
  ok('file_end', { type: 'file_end', transfer: 't7' }),
  bad('file_end with an empty transfer', { type: 'file_end', transfer: '' }, 'transfer'),
  ok('file_result ok', { type: 'file_result', transfer: 't7', ok: true }),
  ok('file_result failed with reason', { type: 'file_result', transfer: 't7', ok: false, reason: 'checksum mismatch' }),
  bad('file_result with ok a string', { type: 'file_result', transfer: 't7', ok: 'yes' }, 'ok'),
  ok('file_cancel', { type: 'file_cancel', transfer: 't7', reason: 'changed my mind' }),
  bad('file_cancel with a reason too long', { type: 'file_cancel', transfer: 't7', reason: repeat('r', 201) }, 'reason'),
  // unknown types
  unknown('unknown type', { type: 'dance' }),
  unknown('empty type', { type: '' }),
  unknown('a server frame sent by a client', { type: 'hello', protocol: 'chatlab/1' }),
  unknown('type "message" from a client', { type: 'message', from: 'a', text: 'b', ts: 1 }),
  unknown('prototype property names are not frame types: __proto__', { type: '__proto__' }),
  unknown('prototype property names are not frame types: constructor', { type: 'constructor' }),
  unknown('prototype property names are not frame types: toString', { type: 'toString' }),
  unknown('type is case-sensitive', { type: 'LOGIN', user: 'alice', password: 'w' }),
];

const serverCases: Case[] = [
  ok('hello', { type: 'hello', protocol: 'chatlab/1' }),
  ok('hello with server and motd', { type: 'hello', protocol: 'chatlab/1', server: 'ref', motd: 'hi' }),
  ok('hello drops unknown fields', { type: 'hello', protocol: 'chatlab/1', flavour: 'vanilla' }, { type: 'hello', protocol: 'chatlab/1' }),
  ok('hello with features', { type: 'hello', protocol: 'chatlab/1', features: ['rooms'] }),
  bad('hello without protocol', { type: 'hello' }, 'protocol'),
  bad('hello with a number protocol', { type: 'hello', protocol: 1 }, 'protocol'),
  bad('hello with a number motd', { type: 'hello', protocol: 'chatlab/1', motd: 1 }, 'motd'),
  ok('welcome', { type: 'welcome', user: 'alice', users: ['alice', 'bob'] }),
  ok('welcome with a number id', { type: 'welcome', user: 'alice', users: ['alice'], id: 1 }),
  ok('welcome with a string id', { type: 'welcome', user: 'alice', users: ['alice'], id: 'x' }),
  bad('welcome without users', { type: 'welcome', user: 'alice' }, 'users'),
  bad('welcome with users a string', { type: 'welcome', user: 'alice', users: 'alice' }, 'users'),
  bad('welcome with a number in users', { type: 'welcome', user: 'alice', users: ['alice', 2] }, 'users'),
  bad('welcome without user', { type: 'welcome', users: [] }, 'user'),
  ok('welcome continued (more)', { type: 'welcome', user: 'alice', users: ['alice'], more: true, id: 1 }),
  bad('welcome with more false', { type: 'welcome', user: 'alice', users: ['alice'], more: false }, 'more'),
  ok('presence online', { type: 'presence', user: 'bob', status: 'online' }),
  ok('presence offline with reason', { type: 'presence', user: 'bob', status: 'offline', reason: 'connection_lost' }),
  ok('presence in a room', { type: 'presence', user: 'bob', status: 'online', room: 'lobby' }),
  bad('presence with an unknown status', { type: 'presence', user: 'bob', status: 'away' }, 'status'),
  bad('presence without status', { type: 'presence', user: 'bob' }, 'status'),
  bad('presence without user', { type: 'presence', status: 'online' }, 'user'),
  ok('message', { type: 'message', from: 'alice', text: 'hello 👋', ts: 1764000000000 }),
  ok('message with to, room and msgid', { type: 'message', from: 'alice', text: 'x', ts: 1, to: 'bob', room: 'lobby', msgid: 5 }),
  bad('message without from', { type: 'message', text: 'x', ts: 1 }, 'from'),
  bad('message without ts', { type: 'message', from: 'alice', text: 'x' }, 'ts'),
  bad('message with ts a string', { type: 'message', from: 'alice', text: 'x', ts: '1' }, 'ts'),
  bad('message with ts infinite', { type: 'message', from: 'alice', text: 'x', ts: Infinity }, 'ts'),
  bad('message with text a number', { type: 'message', from: 'alice', text: 1, ts: 1 }, 'text'),
  ok('ok', { type: 'ok' }),
  ok('ok echoes a string id', { type: 'ok', id: 'abc' }),
  ok('ok echoes a number id', { type: 'ok', id: 17 }),
  ok('error', { type: 'error', code: 'auth_failed', message: 'wrong password' }),
  ok('error with an unknown code (still a string)', { type: 'error', code: 'future_code', message: 'x', id: 2 }),
  bad('error without message', { type: 'error', code: 'auth_failed' }, 'message'),
  bad('error without code', { type: 'error', message: 'x' }, 'code'),
  bad('error with a number code', { type: 'error', code: 401, message: 'x' }, 'code'),
  ok('bye', { type: 'bye' }),
  ok('bye with reason', { type: 'bye', reason: 'shutting_down' }),
  ok('users', { type: 'users', users: ['alice'], id: 1 }),
  ok('users in a room', { type: 'users', users: [], room: 'lobby' }),
  bad('users without users', { type: 'users' }, 'users'),
  ok('users page with more', { type: 'users', users: ['alice'], room: 'rust', more: true, id: 1 }),
  bad('users with more as a string', { type: 'users', users: [], more: 'yes' }, 'more'),
  ok('pong', { type: 'pong', ts: 5, id: 'p' }),
  bad('pong without ts', { type: 'pong' }, 'ts'),
  ok('message replayed from history', { type: 'message', from: 'alice', text: 'x', ts: 1, room: 'lobby', msgid: 5, history: true }),
  ok('private message queued while offline', { type: 'message', from: 'alice', text: 'x', ts: 1, to: 'bob', msgid: 6, history: true, queued: true }),
  bad('message with history a string', { type: 'message', from: 'alice', text: 'x', ts: 1, history: 'yes' }, 'history'),
  ok('ok of a private say', { type: 'ok', id: 1, msgid: 42, queued: true }),
  ok('ok of a file_offer', { type: 'ok', id: 1, transfer: 't7', users: ['bob'] }),
  ok('history_end after login', { type: 'history_end', count: 2, last_msgid: 43 }),
  ok('history_end of a page', { type: 'history_end', room: 'rust', count: 0, id: 9 }),
  bad('history_end without count', { type: 'history_end' }, 'count'),
  ok('room_list', {
    type: 'room_list',
    rooms: [
      { room: 'lobby', users: 3 },
      { room: 'rust', users: 2 },
    ],
    id: 5,
  }),
  bad('room_list with a bad entry', { type: 'room_list', rooms: [{ room: 'lobby' }] }, 'rooms'),
  ok('file_offer relayed', { type: 'file_offer', transfer: 't7', from: 'alice', to: 'bob', name: 'cat.png', size: 3, sha256: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' }),
  bad('file_offer relayed without transfer', { type: 'file_offer', from: 'alice', name: 'x', size: 3, sha256: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' }, 'transfer'),
  ok('file_accept relayed', { type: 'file_accept', transfer: 't7', user: 'bob' }),
  ok('file_decline relayed', { type: 'file_decline', transfer: 't7', user: 'bob' }),
  ok('file_chunk relayed', { type: 'file_chunk', transfer: 't7', seq: 0, data: 'aGk=', from: 'alice' }),
  bad('file_chunk relayed without from', { type: 'file_chunk', transfer: 't7', seq: 0, data: 'aGk=' }, 'from'),
  ok('file_ack relayed', { type: 'file_ack', transfer: 't7', seq: 0, user: 'bob' }),
  ok('file_end relayed', { type: 'file_end', transfer: 't7', from: 'alice' }),
  ok('file_result relayed', { type: 'file_result', transfer: 't7', ok: false, reason: 'checksum mismatch', user: 'bob' }),
  ok('file_cancel relayed', { type: 'file_cancel', transfer: 't7', reason: 'connection_lost', user: 'bob' }),
  bad('file_cancel relayed without reason', { type: 'file_cancel', transfer: 't7' }, 'reason'),
  unknown('unknown type', { type: 'file_upload' }),
  unknown('a client frame sent by a server', { type: 'login', user: 'alice', password: 'w' }),
  unknown('prototype property name', { type: 'hasOwnProperty' }),
];

function check(validate: typeof validateClientFrame | typeof validateServerFrame, { raw, valid, error, mentions }: Case): void {
  const result = validate(raw);
  if (valid) {
    expect(result).toEqual({ ok: true, frame: valid });
    return;
  }
  expect(result).toMatchObject({ ok: false, code: error });
  if (!result.ok && mentions !== undefined) expect(result.message).toContain(`"${mentions}"`);
}

describe('validateClientFrame', () => {
  it.each(clientCases)('$name', (c) => check(validateClientFrame, c));

  it('has a valid case and a bad case for every client frame type', () => {
    for (const type of Object.keys(CLIENT_FRAME_SPECS)) {
      expect(clientCases.some((c) => c.raw.type === type && c.valid)).toBe(true);
      if (type !== 'quit' && type !== 'ping' && type !== 'who') expect(clientCases.some((c) => c.raw.type === type && c.error)).toBe(true);
    }
  });

  it('echoes the id with its type (string stays string, number stays number)', () => {
    for (const id of ['7', 7, '', 0, -1]) {
      const result = validateClientFrame({ type: 'say', text: 'x', id });
      expect(result.ok && result.frame.id).toBe(id);
    }
  });

  it('does not modify the raw frame', () => {
    const raw = { type: 'say', text: 'hi', from: 'bob' };
    validateClientFrame(raw);
    expect(raw).toEqual({ type: 'say', text: 'hi', from: 'bob' });
  });
});

describe('error messages quote what the client sent safely', () => {
  it('an unknown type is quoted as JSON, cut to 64 characters, so the answer always fits a frame', () => {
    const result = validateClientFrame({ type: 'x'.repeat(65_500) });
    expect(result).toMatchObject({ ok: false, code: 'unknown_type' });
    expect(!result.ok && result.message).toBe(`unknown frame type "${'x'.repeat(64)}…" (65500 characters)`);
  });

  it('an unknown type holding a lone surrogate or a control character is shown escaped', () => {
    const result = validateClientFrame({ type: JSON.parse('"a\\ud800\\n"') as string });
    expect(!result.ok && result.message).toBe('unknown frame type "a\\ud800\\n"');
  });
});

describe('lone surrogates (not valid Unicode)', () => {
  const lone = JSON.parse('"\\ud800"') as string;

  it.each([
    ['text of say', { type: 'say', text: `hi ${lone}`, id: 1 }, 'text'],
    ['a trailing half on its own', { type: 'say', text: JSON.parse('"x\\udfff"') as string }, 'text'],
    ['a password', { type: 'login', user: 'alice', password: `pw${lone}` }, 'password'],
    ['a file name', { type: 'file_offer', to: 'bob', name: `a${lone}.txt`, size: 1, sha256: 'a'.repeat(64) }, 'name'],
    ['a cancel reason', { type: 'file_cancel', transfer: 't1', reason: lone }, 'reason'],
    ['a string id', { type: 'ping', id: `p${lone}` }, 'id'],
  ] as [string, RawFrame, string][])('%s is bad_request naming the field and the code unit', (_, raw, field) => {
    const result = validateClientFrame(raw);
    expect(result).toMatchObject({ ok: false, code: 'bad_request' });
    if (!result.ok) expect(result.message).toMatch(new RegExp(`^field "${field}" of "${raw.type}" contains a lone surrogate \\\\ud[8-9a-f][0-9a-f]{2}: not valid Unicode$`));
  });

  it('keeps the message itself well-formed (the code unit is written as an escape, not sent raw)', () => {
    const result = validateClientFrame({ type: 'say', text: lone });
    expect(!result.ok && /[\uD800-\uDFFF]/u.test(result.message)).toBe(false);
    expect(!result.ok && result.message).toContain('\\ud800');
  });

  it('accepts surrogate pairs (emoji) and every other code point', () => {
    expect(validateClientFrame({ type: 'say', text: '👋 \u{10FFFF} \uFFFD \uFEFF' }).ok).toBe(true);
  });

  it('is not a usable request id, so an error never echoes it', () => {
    expect(isRequestId(`a${lone}`)).toBe(false);
    expect(isRequestId('a👋')).toBe(true);
  });

  it('applies to server frames too (a relay or a user list a client could not store faithfully)', () => {
    expect(validateServerFrame({ type: 'message', from: 'bob', text: lone, ts: 1 })).toMatchObject({ ok: false, code: 'bad_request' });
    expect(validateServerFrame({ type: 'users', users: ['bob', lone] })).toMatchObject({ ok: false, code: 'bad_request' });
  });
});

describe('validateServerFrame', () => {
  it.each(serverCases)('$name', (c) => check(validateServerFrame, c));

  it('has a valid case for every server frame type', () => {
    for (const type of Object.keys(SERVER_FRAME_SPECS)) expect(serverCases.some((c) => c.raw.type === type && c.valid)).toBe(true);
  });
});

describe('allowedBeforeLogin', () => {
  const cases: [string, boolean][] = [
    ['login', true],
    ['register', true],
    ['ping', true],
    ['say', false],
    ['quit', false],
    ['who', false],
    ['dance', false],
    ['hello', false],
    ['__proto__', false],
    ['constructor', false],
    ['', false],
  ];
  it.each(cases)('%s → %s', (type, expected) => expect(allowedBeforeLogin(type)).toBe(expected));
});

describe('codePointLength', () => {
  const cases: [string, number][] = [
    ['', 0],
    ['abc', 3],
    ['👋', 1],
    ['hello 👋', 7],
    ['é', 1],
    ['e\u0301', 2],
    ['👩‍💻', 3],
  ];
  it.each(cases)('%j has %i code points', (text, n) => expect(codePointLength(text)).toBe(n));
});

describe('request ids (a string of ≤ 64 characters or an integer within ±(2^53−1))', () => {
  const LARGEST = Number.MAX_SAFE_INTEGER;

  it.each([
    ['a string', 'm-2'],
    ['the empty string', ''],
    ['64 characters (emoji count as one)', '👋'.repeat(64)],
    ['zero', 0],
    ['a negative integer', -7],
    ['2^53−1', LARGEST],
    ['−(2^53−1)', -LARGEST],
  ])('accepts %s, kept unchanged', (_name, id) => {
    expect(isRequestId(id)).toBe(true);
    expect(validateClientFrame({ type: 'say', text: 'hi', id })).toEqual({ ok: true, frame: { type: 'say', text: 'hi', id } });
  });

  it.each([
    ['an object', {}],
    ['an array', [1]],
    ['true', true],
    ['null', null],
    ['65 characters', 'x'.repeat(65)],
    ['1.5', 1.5],
    ['2^53', 2 ** 53],
    ['−2^53', -(2 ** 53)],
    ['NaN', Number.NaN],
  ])('refuses %s with bad_request naming "id"', (_name, id) => {
    expect(isRequestId(id)).toBe(false);
    const result = validateClientFrame({ type: 'say', text: 'hi', id });
    expect(result).toMatchObject({ ok: false, code: 'bad_request' });
    expect(!result.ok && result.message).toContain('field "id" of "say"');
  });

  it('is allowed on the bye that answers a quit, and features on hello', () => {
    expect(validateServerFrame({ type: 'bye', id: 9 })).toEqual({ ok: true, frame: { type: 'bye', id: 9 } });
    expect(validateServerFrame({ type: 'hello', protocol: 'chatlab/1', features: ['who', 'future-thing'] })).toEqual({
      ok: true,
      frame: { type: 'hello', protocol: 'chatlab/1', features: ['who', 'future-thing'] },
    });
    expect(validateServerFrame({ type: 'hello', protocol: 'chatlab/1', features: 'who' })).toMatchObject({ ok: false, code: 'bad_request' });
  });
});
