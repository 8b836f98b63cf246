// Lesson 11's test: its code still passes the verifier through step 10, its README matches the
// code and a real run (test-support/lesson-suite.ts), and the new features work as EXTENSIONS.md
// says: private messages, unknown_user, offline delivery, rooms, presence per room, lobby.
import { describe, expect, it, type TestContext } from 'vitest';
import { findLesson, type Lesson, lessonUsers } from '../../src/lessons/runtime/index.ts';
import { expectFrame } from '../../test-support/expect-frame.ts';
import { featureHarness } from '../../test-support/lesson-harness.ts';
import { describeLesson } from '../../test-support/lesson-suite.ts';
import { within } from '../../test-support/promises.ts';
import { verifyServer } from '../../src/verify/index.ts';

describeLesson(11);

const lesson = findLesson(11) as Lesson;

/** What one test starts (a server, raw connections, a client), stopped when the test ends. */
const harness = (context: TestContext) => featureHarness(lesson, context);

describe.concurrent('lesson 11-rooms: private messages and rooms', () => {
  it('passes chatlab verify with the extensions its hello lists (private, rooms); the others are not run', async () => {
    const report = await verifyServer({ command: [process.execPath, lesson.server], cwd: lesson.dir, users: lessonUsers(), timeouts: { answerMs: 3_000, quietMs: 150 } });
    const failed = report.checks.find((c) => c.status === 'failed');
    expect(report.passed, failed ? `${failed.id}: ${failed.failure?.summary}` : '').toBe(true);
    expect(report.extensions).toEqual({ checked: ['private', 'rooms'], notAdvertised: ['register', 'who', 'ping', 'history', 'files'] });
  });

  it('a private message reaches its target only; the sender gets ok with a msgid', async (context) => {
    const { server, login } = harness(context);
    const { port } = await server();
    const [alice, bob, carol] = await login(port, 'alice', 'bob', 'carol');
    alice.send({ type: 'say', to: 'bob', text: 'psst 👋', id: 'p1' });
    const ok = await expectFrame(alice, { type: 'ok', id: 'p1' });
    expect(ok.msgid).toEqual(expect.any(Number));
    expect(ok.queued).toBeUndefined();
    const message = await expectFrame(bob, { type: 'message', from: 'alice', to: 'bob', text: 'psst 👋' });
    expect(message.msgid).toBe(ok.msgid);
    expect(message.ts).toEqual(expect.any(Number));
    // A lobby message written after it: if carol had been sent the private one, it would come first.
    alice.send({ type: 'say', text: 'hello all' });
    await expectFrame(carol, { type: 'message', from: 'alice', room: 'lobby', text: 'hello all' });
    await expectFrame(bob, { type: 'message', from: 'alice', room: 'lobby', text: 'hello all' });
  });

  it('refuses unknown users, yourself, and "to" with "room"', async (context) => {
    const { server, login } = harness(context);
    const { port } = await server();
    const [alice] = await login(port, 'alice');
    alice.send({ type: 'say', to: 'zed', text: 'anyone?', id: 1 });
    await expectFrame(alice, { type: 'error', code: 'unknown_user', id: 1 });
    alice.send({ type: 'say', to: 'alice', text: 'me', id: 2 });
    await expectFrame(alice, { type: 'error', code: 'bad_request', id: 2 });
    alice.send({ type: 'say', to: 'bob', room: 'lobby', text: 'both', id: 3 });
    await expectFrame(alice, { type: 'error', code: 'bad_request', id: 3 });
  });

  it('keeps a private message for an offline user and delivers it once, at the next login', async (context) => {
    const { server, login } = harness(context);
    const { port } = await server();
    const [alice] = await login(port, 'alice');
    alice.send({ type: 'say', to: 'dave', text: 'see you at 3', id: 1 });
    const ok = await expectFrame(alice, { type: 'ok', id: 1, queued: true });
    const [dave] = await login(port, 'dave');
    await expectFrame(dave, { type: 'message', from: 'alice', to: 'dave', text: 'see you at 3', msgid: ok.msgid, history: true });
    await expectFrame(dave, { type: 'history_end', count: 1, last_msgid: ok.msgid });
    dave.send({ type: 'quit' });
    await expectFrame(dave, { type: 'bye' });
    // Delivered means delivered: the next login replays nothing; its next frame answers `rooms`.
    const [again] = await login(port, 'dave');
    again.send({ type: 'rooms', id: 'after' });
    await expectFrame(again, { type: 'room_list', id: 'after' });
  });

  it('rooms: join, presence per room, say to members only, not_in_room, unknown_room, leave, lobby stays, rooms', async (context) => {
    const { server, login } = harness(context);
    const { port } = await server();
    const [alice, bob, carol] = await login(port, 'alice', 'bob', 'carol');
    alice.send({ type: 'join', room: 'rust', id: 'j1' });
    await expectFrame(alice, { type: 'users', room: 'rust', users: ['alice'], id: 'j1' });
    bob.send({ type: 'join', room: 'rust', id: 'j2' });
    await expectFrame(bob, { type: 'users', room: 'rust', users: ['alice', 'bob'], id: 'j2' });
    await expectFrame(alice, { type: 'presence', user: 'bob', status: 'online', room: 'rust' });
    bob.send({ type: 'join', room: 'rust', id: 'j3' }); // again: the same answer, no news for alice
    await expectFrame(bob, { type: 'users', room: 'rust', users: ['alice', 'bob'], id: 'j3' });

    bob.send({ type: 'say', room: 'rust', text: 'borrowck ftw' });
    await expectFrame(alice, { type: 'message', from: 'bob', room: 'rust', text: 'borrowck ftw' });
    carol.send({ type: 'say', room: 'rust', text: 'let me in', id: 'c1' });
    await expectFrame(carol, { type: 'error', code: 'not_in_room', id: 'c1' });
    carol.send({ type: 'say', room: 'nowhere', text: 'hello?', id: 'c2' });
    await expectFrame(carol, { type: 'error', code: 'unknown_room', id: 'c2' });
    // carol never got the room's message: her next frame is this lobby one.
    bob.send({ type: 'say', text: 'lobby again' });
    await expectFrame(carol, { type: 'message', from: 'bob', room: 'lobby', text: 'lobby again' });
    await expectFrame(alice, { type: 'message', from: 'bob', room: 'lobby', text: 'lobby again' });

    carol.send({ type: 'rooms', id: 'r1' });
    await expectFrame(carol, { type: 'room_list', id: 'r1', rooms: [{ room: 'lobby', users: 3 }, { room: 'rust', users: 2 }] });
    carol.send({ type: 'leave', room: 'lobby', id: 'l0' });
    await expectFrame(carol, { type: 'error', code: 'bad_request', id: 'l0' });
    carol.send({ type: 'leave', room: 'rust', id: 'l1' });
    await expectFrame(carol, { type: 'error', code: 'not_in_room', id: 'l1' });
    carol.send({ type: 'leave', room: 'nowhere', id: 'l1b' });
    await expectFrame(carol, { type: 'error', code: 'unknown_room', id: 'l1b' });

    bob.send({ type: 'leave', room: 'rust', id: 'l2' });
    await expectFrame(bob, { type: 'ok', id: 'l2' });
    await expectFrame(alice, { type: 'presence', user: 'bob', status: 'offline', room: 'rust' });
    alice.send({ type: 'leave', room: 'rust', id: 'l3' });
    await expectFrame(alice, { type: 'ok', id: 'l3' });
    // The last one out closes the room.
    carol.send({ type: 'rooms', id: 'r2' });
    await expectFrame(carol, { type: 'room_list', id: 'r2', rooms: [{ room: 'lobby', users: 3 }] });
    carol.send({ type: 'say', room: 'rust', text: 'gone?', id: 'c3' });
    await expectFrame(carol, { type: 'error', code: 'unknown_room', id: 'c3' });
  });

  it('a user who drops leaves its rooms silently: the global offline says it all', async (context) => {
    const { server, login } = harness(context);
    const { port } = await server();
    const [alice, bob] = await login(port, 'alice', 'bob');
    alice.send({ type: 'join', room: 'go', id: 1 });
    await expectFrame(alice, { type: 'users', id: 1 });
    bob.send({ type: 'join', room: 'go', id: 2 });
    await expectFrame(bob, { type: 'users', users: ['alice', 'bob'], id: 2 });
    await expectFrame(alice, { type: 'presence', user: 'bob', room: 'go' });
    alice.destroy();
    await expectFrame(bob, { type: 'presence', user: 'alice', status: 'offline', reason: 'connection_lost' });
    bob.send({ type: 'rooms', id: 3 });
    await expectFrame(bob, { type: 'room_list', id: 3, rooms: [{ room: 'go', users: 1 }, { room: 'lobby', users: 1 }] });
  });

  it('the client: /msg, /join, lines to the current room, /rooms, /leave', async (context) => {
    const { server, login, client } = harness(context);
    const { port } = await server();
    const [bob] = await login(port, 'bob');
    const { program: alice, terminal, type } = client('alice', port);
    await terminal.expect('logged in as alice; online: alice, bob', 5_000);
    await expectFrame(bob, { type: 'presence', user: 'alice', status: 'online' });

    type('/msg bob just you and me');
    await expectFrame(bob, { type: 'message', from: 'alice', to: 'bob', text: 'just you and me' });
    bob.send({ type: 'join', room: 'rust', id: 1 });
    await expectFrame(bob, { type: 'users', id: 1 });
    type('/join rust');
    await terminal.expect('joined #rust; members: alice, bob', 5_000);
    await expectFrame(bob, { type: 'presence', user: 'alice', status: 'online', room: 'rust' });
    type('a line for the room');
    await expectFrame(bob, { type: 'message', from: 'alice', room: 'rust', text: 'a line for the room' });
    bob.send({ type: 'say', room: 'rust', text: 'hi alice' });
    await terminal.expect('#rust bob: hi alice', 5_000);
    type('/rooms');
    await terminal.expect('rooms: #lobby (2), #rust (2)', 5_000);
    type('/leave');
    await terminal.expect('left #rust; your lines go to #lobby', 5_000);
    await expectFrame(bob, { type: 'presence', user: 'alice', status: 'offline', room: 'rust' });
    type('back in lobby');
    await expectFrame(bob, { type: 'message', from: 'alice', room: 'lobby', text: 'back in lobby' });
    type('/quit');
    expect(await within(alice.exited, 5_000, "alice's client did not exit after /quit")).toBe(0);
  });
});
