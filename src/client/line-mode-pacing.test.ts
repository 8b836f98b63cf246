import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../test-support/chat-server.ts';
import { runLineMode } from './line-mode.ts';

// Piped input against the reference server with its default limits (20 frames per second,
// bursts of 40): line mode must pace itself so that no line is dropped as rate_limited.

let chat: TestServer | undefined;

afterEach(async () => {
  await chat?.stop();
  chat = undefined;
});

describe('line mode and the rate limit', () => {
  it('delivers every one of 60 lines piped at once, with no rate_limited error', async () => {
    chat = await startTestServer();
    const alice = await chat.login('alice');
    const input = new PassThrough();
    const output = new PassThrough();
    let printed = '';
    output.on('data', (chunk: Buffer) => (printed += chunk.toString('utf8')));
    const exit = runLineMode({ host: '127.0.0.1', port: chat.port, user: 'bob', password: 'builder', input, output });
    const lines = Array.from({ length: 60 }, (_, i) => `line ${i + 1}`);
    input.end(lines.map((line) => `${line}\n`).join(''));
    const received: string[] = [];
    for (const line of lines) {
      const frame = await alice.next((f) => f.type === 'message' && f.from === 'bob', 5_000);
      received.push(String(frame.text));
      expect(frame.text).toBe(line);
    }
    expect(await exit).toBe(0);
    expect(received).toEqual(lines);
    expect(printed).not.toContain('rate_limited');
    alice.end();
  });
});
