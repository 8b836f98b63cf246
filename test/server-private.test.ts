/**
 * End to end: private messages (`say` with `to`): only the target receives them, unknown users
 * are refused clearly, and a message to an offline user waits for its next login, where it is
 * delivered once (flagged `queued`), never as new again.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { MessageEvent } from '../src/server/index.ts';
import { errorFrame as error, startTestServer, threeUsers, type TestServer } from './helpers/chat-server.ts';
import { loginWith, takeHistory, texts } from './helpers/extensions.ts';

let chat: TestServer | undefined;
afterEach(async () => {
  await chat?.stop();
  chat = undefined;
});

describe('private messages', () => {
  it('reach only the target; the sender gets ok with the msgid and no copy', async () => {
    chat = await startTestServer();
    const [alice, bob, carol] = await threeUsers(chat);

    alice.send({ type: 'say', to: 'bob', text: 'psst 🤫', id: 1 });
    const message = await bob.nextFrame();
    expect(message).toEqual({ type: 'message', from: 'alice', to: 'bob', text: 'psst 🤫', ts: expect.any(Number), msgid: expect.any(Number) });
    expect(await alice.nextFrame()).toEqual({ type: 'ok', id: 1, msgid: message.msgid });
    expect(await alice.sync()).toEqual([]);
    expect(await carol.sync()).toEqual([]);

    // Without an id: delivered just the same, no ok.
    bob.send({ type: 'say', to: 'alice', text: 'hi back' });
    expect(await alice.nextFrame()).toMatchObject({ type: 'message', from: 'bob', to: 'alice', text: 'hi back' });
    expect(await bob.sync()).toEqual([]);
    expect(await carol.sync()).toEqual([]);
  });

  it('refuses an unknown user, to + room together, and yourself; the connection stays', async () => {
    chat = await startTestServer();
    const alice = await chat.login('alice');
    alice.send({ type: 'say', to: 'nobody', text: 'hello?', id: 'u' });
    const unknown = await alice.nextFrame();
    expect(unknown).toEqual(error('unknown_user', 'u'));
    expect(unknown.message).toContain('nobody');
    alice.send({ type: 'say', to: 'bob', room: 'lobby', text: 'both', id: 'b' });
    expect(await alice.nextFrame()).toEqual(error('bad_request', 'b'));
    alice.send({ type: 'say', to: 'alice', text: 'me', id: 'm' });
    expect(await alice.nextFrame()).toEqual(error('bad_request', 'm'));
    alice.send({ type: 'say', to: 'b ob', text: 'bad name', id: 'n' });
    expect(await alice.nextFrame()).toEqual(error('bad_request', 'n'));
    expect(alice.isOpen).toBe(true);
  });

  it('to an offline user: ok queued, delivered once at the next login, never flagged new again', async () => {
    chat = await startTestServer();
    const events: MessageEvent[] = [];
    chat.server.events.on('message', (e) => events.push(e));
    const alice = await chat.login('alice');

    alice.send({ type: 'say', to: 'bob', text: 'while you were out', id: 1 });
    const ok = await alice.nextFrame();
    expect(ok).toEqual({ type: 'ok', id: 1, msgid: expect.any(Number), queued: true });
    alice.send({ type: 'say', to: 'bob', text: 'and another one', id: 2 });
    const ok2 = await alice.nextFrame();
    expect(ok2).toMatchObject({ type: 'ok', id: 2, queued: true });
    expect(events).toEqual([
      expect.objectContaining({ from: 'alice', to: 'bob', recipients: 0, queued: true, msgid: ok.msgid }),
      expect.objectContaining({ to: 'bob', queued: true, msgid: ok2.msgid }),
    ]);

    // bob's first login: both arrive, in order, flagged queued, then history_end.
    const bob = await chat.login('bob');
    const first = await takeHistory(bob);
    expect(first.messages).toEqual([
      { type: 'message', from: 'alice', to: 'bob', text: 'while you were out', ts: expect.any(Number), msgid: ok.msgid, history: true, queued: true },
      { type: 'message', from: 'alice', to: 'bob', text: 'and another one', ts: expect.any(Number), msgid: ok2.msgid, history: true, queued: true },
    ]);
    expect(first.end).toEqual({ type: 'history_end', count: 2, last_msgid: ok2.msgid });
    expect(await bob.sync()).toEqual([]);
    bob.send({ type: 'quit' });
    await bob.next('bye');
    bob.end();
    await bob.closed();

    // Next login without since: the conversation is history now, no longer queued.
    const again = await chat.login('bob');
    const second = await takeHistory(again);
    expect(texts(second.messages)).toEqual(['while you were out', 'and another one']);
    expect(second.messages.every((m) => m.queued === undefined && m.history === true)).toBe(true);
    again.destroy();
    await again.closed();

    // A client that says what it has seen gets nothing again.
    const resumed = await loginWith(chat, 'bob', { since: ok2.msgid });
    expect(await takeHistory(resumed)).toEqual({ messages: [], end: { type: 'history_end', count: 0, last_msgid: 0 } });
  });

  it('stays private in history: other users never see it replayed', async () => {
    chat = await startTestServer();
    const alice = await chat.login('alice');
    alice.send({ type: 'say', to: 'bob', text: 'secret', id: 1 });
    await alice.next('ok');
    alice.send({ type: 'say', text: 'public', id: 2 });
    await alice.next('ok');
    const carol = await chat.login('carol');
    const { messages } = await takeHistory(carol);
    expect(texts(messages)).toEqual(['public']);
    carol.send({ type: 'history', to: 'alice', id: 'h' });
    expect(await takeHistory(carol)).toEqual({ messages: [], end: { type: 'history_end', to: 'alice', count: 0, id: 'h' } });
  });
});
