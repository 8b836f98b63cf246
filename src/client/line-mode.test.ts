import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { FEATURES, FrameDecoder, encodeFrame, type RawFrame } from '../protocol/index.ts';
import { LineModeError, runLineMode } from './line-mode.ts';

// runLineMode in-process, against a scripted server, with streams for stdin and stdout.

const servers: Server[] = [];

/** A server that says hello, then answers each client frame with what `script` returns. */
async function scriptedServer(script: (frame: RawFrame, socket: Socket) => void): Promise<number> {
  const server = createServer((socket) => {
    const decoder = new FrameDecoder();
    socket.on('error', () => {});
    socket.on('data', (chunk) => {
      for (const result of decoder.push(chunk)) if (result.ok) script(result.frame, socket);
    });
    socket.on('end', () => socket.end());
    // Advertises every extension: the scripts answer extension requests (who, ping, …) too.
    socket.write(encodeFrame({ type: 'hello', protocol: 'chatlab/1', features: [...FEATURES] }));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

function session(port: number, input = new PassThrough(), requestTimeoutMs = 2_000) {
  const output = new PassThrough();
  let text = '';
  output.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  const exit = runLineMode({ host: '127.0.0.1', port, user: 'bob', password: 'builder', input, output, requestTimeoutMs });
  return { input, exit, lines: () => text.split('\n').filter((l) => l !== '') };
}

const welcome = (frame: RawFrame) => encodeFrame({ type: 'welcome', user: 'bob', users: ['alice', 'bob'], id: frame.id as number });

describe('runLineMode', () => {
  it('prints a message that came in the same read as the welcome, after the connected line', async () => {
    const port = await scriptedServer((frame, socket) => {
      if (frame.type === 'login') {
        socket.write(Buffer.concat([welcome(frame), encodeFrame({ type: 'message', from: 'alice', text: 'early bird', ts: Date.now() })]));
      }
      if (frame.type === 'quit') socket.write(encodeFrame({ type: 'bye' }));
    });
    const input = new PassThrough();
    const run = session(port, input);
    input.end();
    expect(await run.exit).toBe(0);
    const lines = run.lines();
    expect(lines[0]).toBe(`* connected to 127.0.0.1:${port} as bob; online: alice, bob`);
    expect(lines[1]).toMatch(/^\[\d\d:\d\d:\d\d\] alice: early bird$/);
  });

  it('prints the whole online list of a paged welcome, once', async () => {
    const port = await scriptedServer((frame, socket) => {
      if (frame.type === 'login') {
        const id = frame.id as number;
        socket.write(encodeFrame({ type: 'welcome', user: 'bob', users: ['alice', 'bob'], more: true, id }));
        socket.write(encodeFrame({ type: 'users', users: ['carol'], more: true, id }));
        socket.write(encodeFrame({ type: 'users', users: ['dave'], id }));
      }
      if (frame.type === 'quit') socket.write(encodeFrame({ type: 'bye' }));
    });
    const input = new PassThrough();
    const run = session(port, input);
    input.end();
    expect(await run.exit).toBe(0);
    expect(run.lines().filter((line) => line.includes('online:'))).toEqual([`* connected to 127.0.0.1:${port} as bob; online: alice, bob, carol, dave`]);
  });

  it('sends each line as say, in order, then quit at the end of the input', async () => {
    const seen: RawFrame[] = [];
    const port = await scriptedServer((frame, socket) => {
      seen.push(frame);
      if (frame.type === 'login') socket.write(welcome(frame));
      if (frame.type === 'say') socket.write(encodeFrame({ type: 'ok', id: frame.id as number }));
      if (frame.type === 'quit') socket.write(encodeFrame({ type: 'bye' }));
    });
    const run = session(port);
    run.input.end('one\r\n\n   \ntwo 👋\n//three\n');
    expect(await run.exit).toBe(0);
    expect(seen.map((f) => (f.type === 'say' ? f.text : f.type))).toEqual(['login', 'one', 'two 👋', '/three', 'quit']);
  });

  it('returns 1 and says why when the server drops the connection', async () => {
    const port = await scriptedServer((frame, socket) => {
      if (frame.type === 'login') socket.write(welcome(frame));
      if (frame.type === 'say') socket.destroy();
    });
    const run = session(port);
    run.input.write('hello?\n');
    expect(await run.exit).toBe(1);
    expect(run.lines().at(-1)).toBe(`! connection_closed: the server at 127.0.0.1:${port} closed the connection unexpectedly`);
    run.input.end();
  });

  it('prints server errors as "! code: message" and carries on', async () => {
    const port = await scriptedServer((frame, socket) => {
      if (frame.type === 'login') socket.write(welcome(frame));
      if (frame.type === 'say') socket.write(encodeFrame({ type: 'error', code: 'rate_limited', message: 'slow down', id: frame.id as number }));
      if (frame.type === 'who') socket.write(encodeFrame({ type: 'users', users: ['alice', 'bob'], id: frame.id as number }));
      if (frame.type === 'quit') socket.write(encodeFrame({ type: 'bye' }));
    });
    const run = session(port);
    // The server answers in order, so the lines come out in this order too.
    run.input.end('too fast\n/who\n');
    expect(await run.exit).toBe(0);
    expect(run.lines().slice(1)).toEqual(['! rate_limited: slow down', '* online: alice, bob']);
  });

  it('a refused login is a LineModeError with one clear line', async () => {
    const port = await scriptedServer((frame, socket) => {
      if (frame.type === 'login') socket.write(encodeFrame({ type: 'error', code: 'auth_failed', message: 'wrong user name or password', id: frame.id as number }));
    });
    const run = session(port);
    const error = await run.exit.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LineModeError);
    // Not the server's sentence: the client says what the user can do now that it has exited.
    expect((error as Error).message).toBe(
      'login as bob failed (auth_failed): wrong user name or password. Check --user and --password (or CHATLAB_USER and CHATLAB_PASSWORD); to create the account, add --register',
    );
  });

  it('returns 1 when the server never says bye after quit', async () => {
    const port = await scriptedServer((frame, socket) => {
      if (frame.type === 'login') socket.write(welcome(frame));
    });
    const run = session(port, new PassThrough(), 300);
    run.input.end();
    expect(await run.exit).toBe(1);
    expect(run.lines().at(-1)).toMatch(/^! request_timeout: no bye from 127\.0\.0\.1:\d+ within 300 ms; connection dropped$/);
  });
});
