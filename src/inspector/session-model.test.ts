import { describe, expect, it } from 'vitest';
import { SessionModel, SERVER_LIFELINE, type Row } from './session-model.ts';
import { EventScript, tenStepSession, tlsHandshakeMessage, tlsRecord, tlsSession } from '../../test-support/event-script.ts';
import { TLS_NOTE } from './tls-records.ts';

function run(script: EventScript, options: ConstructorParameters<typeof SessionModel>[0] = {}): SessionModel {
  const model = new SessionModel(options);
  model.applyAll(script.events);
  return model;
}

const brief = (row: Row): string => `${row.kind}:${row.label}:${row.step ?? '-'}:${row.from}>${row.to}`;

describe('SessionModel on a full 10-step session', () => {
  const model = run(tenStepSession());

  it('lights all ten steps', () => {
    expect(model.steps.map((s) => s.seen)).toEqual(new Array(10).fill(true));
    expect(model.allStepsSeen).toBe(true);
  });

  it('builds the rows in wire order with a step badge each', () => {
    const conn1 = model.rows.filter((r) => r.conn === 1 || r.kind === 'listen').map(brief);
    expect(conn1.slice(0, 9)).toEqual([
      'listen:listening:1:0>0',
      'connect:connect:2:1>0',
      'frame:hello:3:0>1',
      'frame:login:4:1>0',
      'frame:error:5:0>1', // auth_failed answers the login: step 5
      'frame:login:4:1>0',
      'frame:welcome:5:0>1',
      'rename:named:-:1>1',
      'frame:presence:5:0>1',
    ]);
    expect(conn1.slice(-6)).toEqual(['frame:ok:7:0>1', 'frame:presence:9:0>1', 'frame:quit:8:1>0', 'frame:bye:9:0>1', 'fin:FIN:10:1>0', 'fin:FIN:10:0>1']);
  });

  it('names client lifelines by user after welcome and closes them', () => {
    const [server, alice, bob] = model.lifelines;
    expect(server?.id).toBe(SERVER_LIFELINE);
    expect(server?.address).toBe('127.0.0.1:7070');
    expect([alice?.name, alice?.address, bob?.name]).toEqual(['alice', '127.0.0.1:50001', 'bob']);
    expect(alice?.closedAt).toBeDefined();
    expect(model.counters.open).toBe(0);
    expect(model.counters.connections).toBe(2);
  });

  it('keeps the frame, its exact bytes and its reads on the row', () => {
    const say = model.rows.find((r) => r.label === 'say');
    expect(say?.summary).toBe('"hello 👋" [id 1]');
    expect(say?.item?.raw.toString()).toBe('{"type":"say","text":"hello 👋","id":1}\n');
    expect(say?.item?.parts).toEqual([{ read: 3, t: say?.t, bytes: say?.item?.raw.length }]);
  });

  it('counts frames and bytes per direction', () => {
    expect(model.counters.frames).toEqual({ c2s: 6, s2c: 11 });
    const c2sBytes = tenStepSession().events.reduce((n, e) => n + (e.kind === 'data' && e.dir === 'c2s' ? e.bytes.length : 0), 0);
    expect(model.counters.bytes.c2s).toBe(c2sBytes);
    expect(model.throughput(5).reduce((a, b) => a + b, 0)).toBe(model.counters.bytes.c2s + model.counters.bytes.s2c);
  });
});

describe('SessionModel, edge cases', () => {
  it('lights nothing but step 1 and 2 for a server that only accepts', () => {
    const s = new EventScript().listening();
    s.connect(1).fin(1, 'c2s').fin(1, 's2c').close(1, 'client').close(1, 'server');
    const model = run(s);
    expect(model.steps.filter((x) => x.seen).map((x) => x.step)).toEqual([1, 2, 10]);
  });

  it('shows a refused connection without lighting step 2', () => {
    const s = new EventScript().listening();
    s.events.push({ kind: 'open', t: 1, conn: 1, peer: '127.0.0.1:5' }, { kind: 'close', t: 2, conn: 1, side: 'server', error: 'ECONNREFUSED' }, { kind: 'close', t: 3, conn: 1, side: 'client' });
    const model = run(s);
    expect(model.rows.map(brief)).toEqual(['refused:connect ✗:2:1>0', 'close:close:-:1>0']);
    expect(model.rows[0]?.summary).toContain('ECONNREFUSED');
    expect(model.steps[1]?.seen).toBe(false);
  });

  it('shows a reset and an injected cut', () => {
    const s = new EventScript().listening().connect(1);
    s.events.push({ kind: 'fault', t: 5, conn: 1, fault: 'drop', detail: '--drop-after 10' });
    s.close(1, 'client', 'ECONNRESET').close(1, 'server');
    const rows = run(s).rows.map(brief);
    expect(rows.slice(-3)).toEqual(['drop:cut:-:1>1', 'reset:RST:10:1>0', 'close:close:10:0>1']);
  });

  it('pairs an error with its request by id', () => {
    const s = new EventScript().listening().connect(1);
    s.c2s(1, { type: 'who', id: 'a' }).c2s(1, { type: 'login', user: 'x', password: 'y', id: 'b' });
    s.s2c(1, { type: 'error', code: 'bad_request', message: 'm', id: 'b' }).s2c(1, { type: 'error', code: 'not_logged_in', message: 'm', id: 'a' });
    const errors = run(s).rows.filter((r) => r.label === 'error');
    expect(errors.map((r) => r.step)).toEqual([5, null]);
  });

  it('badges no step for errors about frames the server could not read (the naive lesson-04 server)', () => {
    // The server reads every 5-byte piece of the login as a frame and answers each with bad_frame;
    // the last answers come after the inspector has the whole login.
    const s = new EventScript().listening().connect(1);
    s.s2c(1, { type: 'hello', protocol: 'chatlab/1' });
    const login = JSON.stringify({ type: 'login', user: 'alice', password: 'wonderland' }) + '\n';
    for (let at = 0; at < login.length; at += 5) {
      s.bytes(1, 'c2s', login.slice(at, at + 5));
      s.s2c(1, { type: 'error', code: 'bad_frame', message: 'a frame is one JSON object, in UTF-8, on one line' });
    }
    const model = run(s);
    expect(model.rows.filter((r) => r.label === 'error').map((r) => r.step)).toEqual(new Array(Math.ceil(login.length / 5)).fill(null));
    expect(model.steps.filter((x) => x.seen).map((x) => x.step)).toEqual([1, 2, 3, 4]);
  });

  it('pairs an error without id with the unreadable frame just before it, not an earlier login', () => {
    const s = new EventScript().listening().connect(1);
    s.c2s(1, { type: 'login', user: 'alice', password: 'w' }).bytes(1, 'c2s', 'not json\n');
    s.s2c(1, { type: 'error', code: 'bad_request', message: 'm' });
    const model = run(s);
    expect(model.rows.filter((r) => r.label === 'error').map((r) => r.step)).toEqual([null]);
    expect(model.steps[4]?.seen).toBe(false);
  });

  it('shows the continuations of a paged welcome as step 5, numbered, the last with the total', () => {
    const s = new EventScript().listening().connect(1);
    s.c2s(1, { type: 'login', user: 'alice', password: 'w', id: 1 });
    s.s2c(1, { type: 'welcome', user: 'alice', users: ['a1', 'a2'], more: true, id: 1 });
    s.s2c(1, { type: 'users', users: ['b1', 'b2'], more: true, id: 1 });
    s.s2c(1, { type: 'users', users: ['c1'], id: 1 });
    s.c2s(1, { type: 'who', id: 2 }).s2c(1, { type: 'users', users: ['alice'], id: 2 });
    const rows = run(s).rows.filter((r) => r.kind === 'frame' && r.dir === 's2c');
    expect(rows.map((r) => [r.label, r.step])).toEqual([
      ['welcome', 5],
      ['users (cont. 2)', 5],
      ['users (cont. 3/3)', 5],
      ['users', null],
    ]);
    expect(rows[0]?.summary).toBe('alice; online: a1, a2 (more follows) [id 1]');
    expect(rows[1]?.summary).toBe('page 2 of the welcome, 2 more names: b1, b2 (more follows) [id 1]');
    expect(rows[2]?.summary).toBe('last page of the welcome (5 names in all): c1 [id 1]');
  });

  it('says when a frame breaks into a paged list', () => {
    const s = new EventScript().listening().connect(1);
    s.c2s(1, { type: 'who', id: 'w' }).s2c(1, { type: 'users', users: ['a'], more: true, id: 'w' });
    s.s2c(1, { type: 'presence', user: 'b', status: 'online' });
    const presence = run(s).rows.find((r) => r.label === 'presence');
    expect(presence?.summary).toMatch(/^b online — breaks off the paged users list \(.*"presence" came before its last page/);
  });

  it('gives two lifelines of the same user distinct names', () => {
    const s = new EventScript().listening();
    s.connect(1).s2c(1, { type: 'welcome', user: 'alice', users: ['alice'] });
    s.connect(2).s2c(2, { type: 'welcome', user: 'alice', users: ['alice'] });
    expect(run(s).lifelines.map((l) => l.name)).toEqual(['server', 'alice', 'alice (#2)']);
  });

  it('adds one row per read with showReads, before the frames it completes', () => {
    const s = new EventScript().listening().connect(1);
    s.bytes(1, 'c2s', '{"type":"say","text":"a"}\n{"type":"sa').bytes(1, 'c2s', 'y","text":"b"}\n');
    const rows = run(s, { showReads: true }).rows.filter((r) => r.conn === 1 && r.kind !== 'connect');
    expect(rows.map((r) => r.kind)).toEqual(['read', 'frame', 'read', 'frame']);
    expect(rows[0]?.summary).toBe('37 B: 1 whole frame + the start of a frame (11 B held)');
    expect(rows[2]?.summary).toBe('15 B: the end of a frame begun in an earlier read');
  });

  it('decodes an unknown line protocol as line rows', () => {
    const s = new EventScript().listening();
    s.connect(1).bytes(1, 's2c', ':irc.local NOTICE * :hello\r\n').bytes(1, 'c2s', 'NICK alice\r\nUSER alice 0 * :Alice\r\n');
    const model = run(s);
    expect(model.connectionFraming(1)).toBe('lines');
    expect(model.rows.filter((r) => r.kind === 'line').map((r) => `${r.dir} ${r.label} ${r.summary}`)).toEqual([
      's2c NOTICE :irc.local NOTICE * :hello',
      'c2s NICK NICK alice',
      'c2s USER USER alice 0 * :Alice',
    ]);
    expect(model.steps.filter((x) => x.seen).map((x) => x.step)).toEqual([1, 2]);
  });

  it('drops the oldest rows beyond maxRows and counts them', () => {
    const s = new EventScript().listening().connect(1);
    for (let i = 0; i < 50; i++) s.c2s(1, { type: 'ping' });
    const model = run(s, { maxRows: 20 });
    expect(model.rows.length).toBeLessThanOrEqual(20);
    expect(model.counters.droppedRows + model.rows.length).toBe(52);
    expect(model.rows[model.rows.length - 1]?.id).toBe(52);
  });

  it('reports a gap and resynchronises', () => {
    const s = new EventScript().listening().connect(1).bytes(1, 'c2s', '{"type":"a"}\n{"ty');
    s.events.push({ kind: 'gap', t: 99, conn: 1, dir: 'c2s', bytes: 4096 });
    s.bytes(1, 'c2s', 'pe":"lost"}\n{"type":"b"}\n');
    const model = run(s);
    expect(model.rows.filter((r) => r.conn === 1).map((r) => r.label)).toEqual(['connect', 'a', 'gap', 'b']);
    expect(model.counters.skippedBytes).toBe(4096);
  });
});

describe('SessionModel, TLS', () => {
  it('labels the records of a TLS connection and adds one note for it', () => {
    const model = run(tlsSession());
    expect(model.rows.filter((r) => r.conn === 1).map(brief)).toEqual([
      'connect:connect:2:1>0',
      'chunk:TLS handshake 349 B:-:1>0',
      'tls:TLS:-:1>1',
      'chunk:TLS handshake + change_cipher_spec + application data ×2 (691 B):-:0>1',
      'chunk:TLS change_cipher_spec + application data (80 B):-:1>0',
      'chunk:TLS application data ×2 (146 B):-:0>1',
      'chunk:TLS application data 78 B:-:1>0',
      'chunk:TLS application data 24 B:-:1>0',
      'fin:FIN:10:1>0',
      'fin:FIN:10:0>1',
    ]);
    expect(model.rows.find((r) => r.kind === 'tls')?.summary).toBe(TLS_NOTE);
    expect([model.isTlsConnection(1), model.isTlsConnection(2)]).toEqual([true, false]);
    // The clear-text login of connection 2 is seen; nothing inside TLS is.
    expect(model.steps.filter((x) => x.seen).map((x) => x.step)).toEqual([1, 2, 4, 10]);
  });

  it('adds no note for raw bytes that are not TLS', () => {
    const s = new EventScript().listening(undefined, 'raw').connect(1);
    s.bytes(1, 'c2s', Buffer.from([0x00, 0x01, 0x02, 0x03])).bytes(1, 's2c', tlsRecord(0x16, tlsHandshakeMessage(2, 10)));
    const model = run(s);
    expect(model.rows.filter((r) => r.kind === 'chunk').map((r) => r.label)).toEqual(['4 B', 'TLS handshake 19 B']);
    expect(model.rows.filter((r) => r.kind === 'tls')).toHaveLength(1);
    const plain = new EventScript()
      .listening(undefined, 'raw')
      .connect(1)
      .bytes(1, 'c2s', Buffer.from([0xde, 0xad, 0xbe, 0xef]));
    expect(run(plain).rows.some((r) => r.kind === 'tls')).toBe(false);
  });

  it('picks the records up again after a gap', () => {
    const s = new EventScript()
      .listening()
      .connect(1)
      .bytes(1, 'c2s', tlsRecord(0x16, tlsHandshakeMessage(1, 36)))
      .bytes(1, 'c2s', tlsRecord(0x17, 3000).subarray(0, 1000));
    s.events.push({ kind: 'gap', t: 99, conn: 1, dir: 'c2s', bytes: 2005 });
    s.bytes(1, 'c2s', tlsRecord(0x17, 30));
    const rows = run(s).rows.filter((r) => r.conn === 1);
    expect(rows.map((r) => r.label)).toEqual(['connect', 'TLS handshake 45 B', 'TLS', 'TLS application data 1000 B', 'gap', 'TLS application data 35 B']);
    expect(rows.filter((r) => r.kind === 'tls')).toHaveLength(1);
  });
});
