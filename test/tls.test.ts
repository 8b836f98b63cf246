/**
 * TLS on the reference server and client: `chatlab server --tls-cert/--tls-key`, `chatlab client
 * --tls [--ca]` and the ChatServer/ChatClient options, with one clear line for each way it goes
 * wrong (a missing or bad certificate or key, an untrusted certificate, a plain client at a TLS
 * server and the other way round), and the inspector between a TLS client and the TLS server.
 * The certificate is lesson 13's demo pair (self-signed, 127.0.0.1 and localhost, valid to 2126).
 */
import { readFileSync } from 'node:fs';
import { createConnection, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ChatClient, type ClientTlsOptions } from '../src/client/index.ts';
import { startInspector } from '../src/inspector/index.ts';
import { ChatServer, TlsCredentialsError } from '../src/server/index.ts';
import { startTestServer, type TestServer } from '../test-support/chat-server.ts';
import { REPO_ROOT, startCliProcess, type CliRun } from '../test-support/cli-process.ts';
import { rejection, within } from '../test-support/promises.ts';

const CERT_FILE = join(REPO_ROOT, 'lessons', '13-tls', 'demo-cert.pem');
const KEY_FILE = join(REPO_ROOT, 'lessons', '13-tls', 'demo-key.pem');
const cert = readFileSync(CERT_FILE);
const key = readFileSync(KEY_FILE);
/** A certificate that is not the server's: the CA a client wrongly trusts. */
const OTHER_CERT_FILE = join(REPO_ROOT, 'test', 'fixtures', 'tls', 'other-cert.pem');

const servers: TestServer[] = [];
const clients: ChatClient[] = [];
const runs: CliRun[] = [];
const cleanups: Socket[] = [];
afterEach(async () => {
  for (const socket of cleanups.splice(0)) socket.destroy();
  for (const run of runs.splice(0)) if (run.child.exitCode === null) run.child.kill('SIGKILL');
  for (const client of clients.splice(0)) client.destroy();
  for (const server of servers.splice(0)) await server.stop();
});

async function tlsServer(): Promise<TestServer> {
  const server = await startTestServer({ tls: { cert, key } });
  servers.push(server);
  return server;
}

function rawConnect(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: '127.0.0.1', port }, () => resolve(socket));
    socket.once('error', reject);
    cleanups.push(socket);
  });
}

async function connect(port: number, tls: boolean | ClientTlsOptions, helloTimeoutMs?: number): Promise<ChatClient> {
  const client = await ChatClient.connect({ port, tls, ...(helloTimeoutMs !== undefined && { helloTimeoutMs }) });
  clients.push(client);
  return client;
}

function cli(args: string[]): CliRun {
  const run = startCliProcess(args);
  runs.push(run);
  return run;
}

async function oneLineFailure(args: string[]): Promise<string> {
  const run = cli(args);
  expect(await run.exited, run.stderr.join('\n')).toBe(1);
  expect(run.stderr).toHaveLength(1);
  return run.stderr[0] as string;
}

describe('the reference server and client over TLS', () => {
  it('chat with chatlab/1 inside TLS, trusting the pinned certificate', async () => {
    const { port, server } = await tlsServer();
    expect(server.tls).toBe(true);
    const alice = await connect(port, { ca: cert });
    expect(alice.tls).toBe(true);
    expect(alice.hello).toMatchObject({ type: 'hello', protocol: 'chatlab/1' });
    await alice.login('alice', 'wonderland');
    const bob = await connect(port, { ca: cert, servername: 'localhost' });
    await bob.login('bob', 'builder');
    const heard = new Promise((resolve) => bob.on('message', resolve));
    await alice.say('over TLS');
    expect(await heard).toMatchObject({ from: 'alice', text: 'over TLS' });
    await alice.quit();
    // A stopping server says bye inside TLS too.
    const bye = new Promise((resolve) => bob.once('bye', resolve));
    await server.stop();
    expect(await bye).toEqual({ type: 'bye', reason: 'server_shutdown' });
  });

  it('says "certificate verify failed" when the client trusts another CA (or none)', async () => {
    const { port } = await tlsServer();
    const wrong = await rejection(connect(port, { ca: readFileSync(OTHER_CERT_FILE) }));
    expect(wrong).toMatchObject({ code: 'tls_failed' });
    expect(wrong.message).toBe(`TLS: certificate verify failed for 127.0.0.1:${port} (self-signed certificate): trust the certificate that signed it (--ca FILE)`);
    expect(await rejection(connect(port, true))).toMatchObject({ code: 'tls_failed', message: expect.stringContaining('certificate verify failed') });
  });

  it('tells a plain client at a TLS server, and a TLS client at a plain server, what is wrong', async () => {
    const { port } = await tlsServer();
    const plain = await rejection(connect(port, false, 500));
    expect(plain.message).toBe(`connected to 127.0.0.1:${port} but no hello within 500 ms — is it a chatlab/1 server? is it overloaded? does it speak TLS?`);

    const clear = await startTestServer();
    servers.push(clear);
    const tls = await rejection(connect(clear.port, { ca: cert }));
    expect(tls).toMatchObject({ code: 'tls_failed', message: `TLS: 127.0.0.1:${clear.port} does not speak TLS (it answered in plain text): connect without TLS` });
  });

  it('bounds the handshakes in progress by maxConnections, and ends them on stop', async () => {
    const server = await startTestServer({ tls: { cert, key }, limits: { maxConnections: 2 } });
    servers.push(server);
    // Plain TCP connections that never start a handshake: each holds a pending TLS handshake.
    const sockets = await Promise.all([0, 1, 2].map(() => rawConnect(server.port)));
    const [first, second, third] = sockets.map((socket) => new Promise<void>((resolve) => socket.once('close', () => resolve())));
    await third;
    await server.stop();
    await Promise.all([first, second]);
  });

  it('closes a connection that never completes its handshake', async () => {
    const server = await startTestServer({ tls: { cert, key }, tlsHandshakeTimeoutMs: 200 });
    servers.push(server);
    const errors: string[] = [];
    server.server.events.on('error', (event) => errors.push(event.code));
    const socket = await rawConnect(server.port);
    await within(new Promise((resolve) => socket.once('close', resolve)), 5_000, 'the server to close the silent connection');
    expect(errors).toEqual(['tls_handshake']);
  });

  it('refuses a certificate, a key, or a pair that cannot be used, naming which', () => {
    const other = readFileSync(join(REPO_ROOT, 'test', 'fixtures', 'tls', 'other-key.pem'));
    const attempt = (tls: { cert: Buffer | string; key: Buffer | string }): TlsCredentialsError => {
      try {
        new ChatServer({ tls }).stop();
      } catch (error) {
        return error as TlsCredentialsError;
      }
      throw new Error('expected the server to refuse the pair');
    };
    expect(attempt({ cert: 'not a certificate', key })).toMatchObject({ part: 'cert', message: 'the TLS certificate is not a PEM certificate (PEM routines: no start line)' });
    expect(attempt({ cert, key: cert })).toMatchObject({ part: 'key' });
    expect(attempt({ cert, key: other })).toMatchObject({ part: 'pair', message: 'the TLS key does not belong to the certificate (x509 certificate routines: key values mismatch)' });
  });
});

describe('chatlab server --tls-cert/--tls-key and chatlab client --tls --ca', () => {
  it('serves TLS, says so in its listening line, and the client chats through it', async () => {
    const server = cli(['server', '--port', '0', '--db', ':memory:', '--tls-cert', CERT_FILE, '--tls-key', KEY_FILE]);
    const listening = await server.line(/^chatlab server listening on tls:\/\/127\.0\.0\.1:(\d+) \(db :memory:; Ctrl-C to stop\)$/);
    const port = (/:(\d+) /.exec(listening) as RegExpExecArray)[1] as string;
    const client = cli(['client', '--plain', '--tls', '--ca', CERT_FILE, '--port', port, '--user', 'erin', '--password', 'secret-erin', '--register']);
    await client.line(new RegExp(`^\\* connected to tls://127\\.0\\.0\\.1:${port} as erin; online: erin$`));
    client.type('/quit\n');
    expect(await client.exited).toBe(0);

    const untrusted = await oneLineFailure(['client', '--plain', '--tls', '--ca', OTHER_CERT_FILE, '--port', port, '--user', 'erin', '--password', 'secret-erin']);
    expect(untrusted).toBe(`chatlab: TLS: certificate verify failed for 127.0.0.1:${port} (self-signed certificate): trust the certificate that signed it (--ca FILE)`);
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
  });

  it('reports a missing, unreadable or mismatched certificate or key in one line', async () => {
    const missing = join(REPO_ROOT, 'test', 'fixtures', 'tls', 'missing.pem');
    const otherKey = join(REPO_ROOT, 'test', 'fixtures', 'tls', 'other-key.pem');
    const base = ['server', '--port', '0', '--db', ':memory:'];
    // Independent processes: run side by side.
    const [noFile, noKey, notACert, mismatch, noCa] = await Promise.all([
      oneLineFailure([...base, '--tls-cert', missing, '--tls-key', KEY_FILE]),
      oneLineFailure([...base, '--tls-cert', CERT_FILE]),
      oneLineFailure([...base, '--tls-cert', KEY_FILE, '--tls-key', KEY_FILE]),
      oneLineFailure([...base, '--tls-cert', CERT_FILE, '--tls-key', otherKey]),
      oneLineFailure(['client', '--plain', '--tls', '--ca', missing, '--user', 'a', '--password', 'b']),
    ]);
    expect(noFile).toBe(`chatlab: --tls-cert ${missing}: cannot read it (no such file)`);
    expect(noKey).toBe('chatlab: --tls-cert needs --tls-key (the private key of the certificate)');
    expect(notACert).toMatch(/^chatlab: --tls-cert \S+demo-key\.pem: the TLS certificate is not a PEM certificate \(/);
    expect(mismatch).toBe(`chatlab: --tls-cert ${CERT_FILE} --tls-key ${otherKey}: the TLS key does not belong to the certificate (x509 certificate routines: key values mismatch)`);
    expect(noCa).toBe(`chatlab: --ca ${missing}: cannot read it (no such file)`);
  });
});

describe('the inspector between a TLS client and the TLS reference server', () => {
  it('forwards the session unchanged and draws it as TLS records', async () => {
    const { port } = await tlsServer();
    const inspector = await startInspector({ target: { host: '127.0.0.1', port } });
    try {
      const alice = await connect(inspector.address.port, { ca: cert });
      await alice.login('alice', 'wonderland');
      await alice.quit();
      await inspector.waitFor((m) => m.counters.connections === 1 && m.counters.open === 0, 5_000, 'the connection to close');
      const model = inspector.model;
      expect(model.isTlsConnection(1)).toBe(true);
      const chunks = model.rows.filter((row) => row.kind === 'chunk');
      expect(chunks.length).toBeGreaterThanOrEqual(4);
      for (const row of chunks) expect(row.label, row.summary).toMatch(/^TLS /);
      expect(chunks.find((row) => row.dir === 'c2s')?.summary).toMatch(/ClientHello$/);
      // Nothing of the chat leaks into the diagram: no frame was decoded.
      expect(model.rows.some((row) => row.kind === 'frame')).toBe(false);
    } finally {
      await inspector.stop();
    }
  });
});
