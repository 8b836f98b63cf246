/**
 * The web chat's session against a stand-in for the bridge (a real WebSocket server on
 * 127.0.0.1 that answers as a chatlab/1 server would): what the page shows of an `ok` to a `say`.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { ChatSession, privateKey, roomKey } from './chat-session.ts';

const servers: WebSocketServer[] = [];
const pageGlobals = globalThis as { WebSocket?: unknown };
const nodeWebSocket = pageGlobals.WebSocket;

afterEach(async () => {
  pageGlobals.WebSocket = nodeWebSocket;
  for (const server of servers.splice(0)) {
    for (const client of server.clients) client.terminate();
    await new Promise((resolve) => server.close(resolve));
  }
});

/** A server that greets, welcomes any login, and answers each `say` with `ok` plus `extra`. */
async function standIn(extra: (say: Record<string, unknown>) => Record<string, unknown>): Promise<string> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  servers.push(server);
  await once(server, 'listening');
  server.on('connection', (socket) => {
    socket.send(JSON.stringify({ type: 'hello', protocol: 'chatlab/1', features: ['private'] }));
    socket.on('message', (data) => {
      const frame = JSON.parse(String(data)) as Record<string, unknown>;
      if (frame.type === 'login') socket.send(JSON.stringify({ type: 'welcome', user: frame.user, users: [frame.user], id: frame.id }));
      if (frame.type === 'say') socket.send(JSON.stringify({ type: 'ok', id: frame.id, ...extra(frame) }));
    });
  });
  return `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function loggedIn(url: string): Promise<ChatSession> {
  // The page's global; Node 20 has none, and ws speaks the same events.
  pageGlobals.WebSocket = WebSocket;
  const session = new ChatSession('test', url);
  await expect.poll(() => session.state.phase).toBe('login');
  await session.login('alice', 'wonderland', false);
  return session;
}

describe('the web chat, after a say', () => {
  it('tells the user a message was deferred by a cluster whose store is away', async () => {
    const session = await loggedIn(await standIn(() => ({ deferred: true })));
    await session.say('anyone there?');
    const lines = session.lobby.lines.map(({ kind, text }) => ({ kind, text }));
    expect(lines).toEqual([
      { kind: 'message', text: 'anyone there?' },
      { kind: 'info', text: expect.stringMatching(/could not store that message yet: it reached the users on the same server/) },
    ]);
  });

  it('tells the user a private message waits for its offline recipient', async () => {
    const session = await loggedIn(await standIn((say) => (say.to === 'bob' ? { msgid: 7, queued: true } : { msgid: 8 })));
    session.openPrivate('bob');
    await session.say('see you later');
    const lines = session.state.conversations.find((c) => c.key === privateKey('bob'))?.lines.map(({ kind, text }) => ({ kind, text }));
    expect(lines).toEqual([
      { kind: 'message', text: 'see you later' },
      { kind: 'info', text: 'bob is offline: the message waits for their next login' },
    ]);
  });

  it('adds nothing to a message that simply reached everyone', async () => {
    const session = await loggedIn(await standIn(() => ({ msgid: 1 })));
    await session.say('hello');
    expect(session.state.conversations.find((c) => c.key === roomKey('lobby'))?.lines.map(({ kind }) => kind)).toEqual(['message']);
  });
});
