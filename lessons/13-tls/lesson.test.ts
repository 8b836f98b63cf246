// Lesson 13's test: its code still passes the verifier through step 10 (through a TLS bridge,
// since the verifier speaks plain TCP: see src/lessons/runtime/check.ts), its README matches the code and
// a real run (test-support/lesson-suite.ts), and TLS itself works: the handshake with the pinned
// demo certificate, a whole chat over TLS, nothing for a plain-text client, and a client that
// refuses a certificate it does not trust. The feature tests run for both tracks: server.mjs/client.mjs
// and server.py/client.py (whose verifier checks and README sections are in lessons/python-track.test.ts).
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { describe, expect, it, type TestContext } from 'vitest';
import { findLesson, inTrack, type Lesson, LESSON_HOST, Terminal } from '../../src/lessons/runtime/index.ts';
import { expectFrame } from '../../test-support/expect-frame.ts';
import { featureHarness } from '../../test-support/lesson-harness.ts';
import { describeLesson } from '../../test-support/lesson-suite.ts';
import { within } from '../../test-support/promises.ts';

describeLesson(13);

const lesson = findLesson(13) as Lesson;
const ca = readFileSync(join(lesson.dir, 'demo-cert.pem'));
const fingerprint = new X509Certificate(ca).fingerprint256;

/** Resolves once the terminal has printed a line matching `pattern`; fails after `timeoutMs`. */
function printedMatching(terminal: Terminal, pattern: RegExp, timeoutMs = 5_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const found = (): string | undefined => terminal.printed.find((line) => pattern.test(line));
    const timer = setTimeout(() => reject(new Error(`${terminal.name} printed no line matching ${pattern}:\n${terminal.printed.join('\n')}`)), timeoutMs);
    const check = (): void => {
      const line = found();
      if (line === undefined) return;
      clearTimeout(timer);
      resolve(line);
    };
    terminal.onLine(check);
    check();
  });
}

/** What one test starts (connections over TLS trusting the demo certificate), stopped when it ends. */
const harness = (lesson: Lesson, context: TestContext) => featureHarness(lesson, context, { ca });

// Each track's programs, side by side.
for (const view of [lesson, inTrack(lesson, 'python') as Lesson]) {
  describe.concurrent(`lesson 13-tls: TLS (${view.server}, ${view.client})`, () => {
    it('completes a TLS handshake with the demo certificate, then says hello inside it', async (context) => {
      const { server } = harness(view, context);
      const { port, terminal } = await server();
      await terminal.expect(`TLS certificate SHA-256 ${fingerprint}`, 5_000);
      const socket = tls.connect({ host: LESSON_HOST, port, ca });
      context.onTestFinished(() => void socket.destroy());
      await within(
        new Promise<void>((resolve, reject) => {
          socket.once('secureConnect', resolve);
          socket.once('error', reject);
        }),
        5_000,
        'no TLS handshake with the lesson server',
      );
      expect(socket.authorized).toBe(true);
      expect(socket.getProtocol()).toMatch(/^TLSv1\.[23]$/);
      expect(socket.getPeerCertificate().fingerprint256).toBe(fingerprint);
      const hello = await within(
        new Promise<string>((resolve) => socket.once('data', (bytes: Buffer) => resolve(bytes.toString()))),
        5_000,
        'no hello after the TLS handshake',
      );
      expect(hello).toBe('{"type":"hello","protocol":"chatlab/1","features":["private","rooms","files"]}\n');
    });

    it('carries a whole chat over TLS: login, presence, lobby and private messages, quit', async (context) => {
      const { server, login } = harness(view, context);
      const { port } = await server();
      const [alice] = await login(port, 'alice');
      const [bob] = await login(port, 'bob');
      await expectFrame(alice, { type: 'presence', user: 'bob', status: 'online' });
      alice.send({ type: 'say', text: 'encrypted 👋' });
      await expectFrame(bob, { type: 'message', from: 'alice', room: 'lobby', text: 'encrypted 👋' });
      bob.send({ type: 'say', to: 'alice', text: 'psst', id: 1 });
      await expectFrame(bob, { type: 'ok', id: 1 });
      await expectFrame(alice, { type: 'message', from: 'bob', to: 'alice', text: 'psst' });
      bob.send({ type: 'quit' });
      await expectFrame(bob, { type: 'bye' });
      await bob.closed();
      await expectFrame(alice, { type: 'presence', user: 'bob', status: 'offline' });
    });

    it('gives a plain-text client nothing, not even hello, and hangs up on it', async (context) => {
      const { server } = harness(view, context);
      const { port, terminal } = await server();
      const socket = net.connect(port, LESSON_HOST);
      context.onTestFinished(() => void socket.destroy());
      const received: Buffer[] = [];
      socket.on('data', (bytes: Buffer) => received.push(bytes));
      socket.on('error', () => {});
      const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
      socket.write('{"type":"login","user":"dave","password":"davesecret"}\n');
      await within(closed, 5_000, 'the server did not hang up on a plain-text connection');
      expect(Buffer.concat(received).toString()).not.toContain('hello');
      await terminal.expect('a connection failed the TLS handshake: ERR_SSL_WRONG_VERSION_NUMBER', 5_000);
      expect(terminal.printed.some((line) => line.includes(' is dave'))).toBe(false);
    });

    it('the client chats over TLS and shows the certificate it was given', async (context) => {
      const { server, login, client } = harness(view, context);
      const { port } = await server();
      const [bob] = await login(port, 'bob');
      const alice = client('alice', port);
      await alice.terminal.expect(`connected to 127.0.0.1:${port} with TLSv1.3`, 5_000);
      await alice.terminal.expect(`TLS certificate SHA-256 ${fingerprint}`, 5_000);
      await alice.terminal.expect('logged in as alice; online: alice, bob', 5_000);
      await expectFrame(bob, { type: 'presence', user: 'alice', status: 'online' });
      alice.type('over TLS');
      await expectFrame(bob, { type: 'message', from: 'alice', text: 'over TLS' });
      bob.send({ type: 'say', text: 'back at you' });
      await alice.terminal.expect('bob: back at you', 5_000);
      alice.type('/quit');
      expect(await within(alice.program.exited, 5_000, "alice's client did not exit after /quit")).toBe(0);
      await expectFrame(bob, { type: 'presence', user: 'alice', status: 'offline' });
    });

    it('the client refuses a server whose certificate it does not trust, before sending anything', async (context) => {
      const { server, client } = harness(view, context);
      const { port, terminal: serverTerminal } = await server();
      // Trust the usual public authorities instead of the demo certificate: none of them vouches for it.
      const folder = mkdtempSync(join(tmpdir(), 'chatlab-lesson13-'));
      context.onTestFinished(() => rmSync(folder, { recursive: true, force: true }));
      const others = join(folder, 'public-authorities.pem');
      writeFileSync(others, tls.rootCertificates.join('\n'));
      const alice = client('alice', port, { CHATLAB_TLS_CA: others });
      expect(await within(alice.program.exited, 5_000, "alice's client did not give up on a certificate it does not trust")).toBe(1);
      expect(alice.terminal.printed.join('\n')).toMatch(/cannot talk to 127\.0\.0\.1:\d+: self[- ]signed certificate/);
      // The server only sees the handshake fail (an "unknown CA" alert, or the client gone already).
      await printedMatching(serverTerminal, /^a connection failed the TLS handshake: /);
      expect(serverTerminal.printed.some((line) => line.includes(' is alice'))).toBe(false);
    });
  });
}
