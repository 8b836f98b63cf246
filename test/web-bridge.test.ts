/**
 * The web bridge over real sockets, no browser: each WebSocket text message is one chatlab/1
 * frame on the TCP side and back; a message that is not one frame gets the protocol's error and
 * is never forwarded; backpressure both ways stays within its bounds; a close on one side closes
 * the other; and an upgrade from a foreign Origin is refused.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { FrameDecoder, MAX_FRAME_BYTES, type RawFrame } from '../src/protocol/index.ts';
import { startWebServer, type DiagramUpdate, type WebServer, type WebSocketBridge } from '../src/web/index.ts';
import { within } from '../test-support/promises.ts';

/** A TCP server standing in for a chatlab/1 server: it hands each accepted socket to the test. */
interface FakeTarget {
  server: Server;
  port: number;
  accepted: Promise<Socket>;
}

let appDir: string;
let web: WebServer | undefined;
let target: FakeTarget | undefined;
const clients: WebSocket[] = [];

function fakeTarget(): Promise<FakeTarget> {
  const server = createServer();
  const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve));
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as AddressInfo).port, accepted })));
}

async function bridgeTo(options: { highWaterBytes?: number; lowWaterBytes?: number } = {}): Promise<{ ws: WebSocket; tcp: Socket; bridge: WebSocketBridge }> {
  target = await fakeTarget();
  web = await startWebServer({ port: 0, target: { host: '127.0.0.1', port: target.port }, appDir, ...options });
  const ws = new WebSocket(`ws://127.0.0.1:${web.address.port}/chat?session=bridge-test-session-0001`);
  clients.push(ws);
  await within(new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject)), 5_000, 'the WebSocket to open');
  const tcp = await within(target.accepted, 5_000, 'the bridge to connect to the target');
  const bridge = [...web.bridges][0] as WebSocketBridge;
  return { ws, tcp, bridge };
}

/** Resolves with the next `count` text messages of `ws`. */
function messages(ws: WebSocket, count: number): Promise<string[]> {
  return new Promise((resolve) => {
    const got: string[] = [];
    const onMessage = (data: WebSocket.RawData) => {
      got.push(data.toString());
      if (got.length < count) return;
      ws.off('message', onMessage);
      resolve(got);
    };
    ws.on('message', onMessage);
  });
}

/** Resolves with the next `count` frames the TCP side receives. */
function tcpFrames(tcp: Socket, count: number): Promise<RawFrame[]> {
  const decoder = new FrameDecoder();
  return new Promise((resolve) => {
    const got: RawFrame[] = [];
    const onData = (chunk: Buffer) => {
      for (const result of decoder.push(chunk)) if (result.ok) got.push(result.frame);
      if (got.length < count) return;
      tcp.off('data', onData);
      resolve(got);
    };
    tcp.on('data', onData);
  });
}

/**
 * A moment for a bridge that ignores backpressure to show it (it would keep reading). Only ever
 * used before asserting that something did NOT happen; correct code passes however long it is.
 */
const settle = () => new Promise((resolve) => setTimeout(resolve, 300));

function flow(bridge: WebSocketBridge, side: 'server' | 'browser', paused: boolean): Promise<void> {
  return new Promise((resolve) => {
    const onFlow = (s: string, p: boolean) => {
      if (s !== side || p !== paused) return;
      bridge.off('flow', onFlow);
      resolve();
    };
    bridge.on('flow', onFlow);
  });
}

beforeEach(() => {
  appDir = mkdtempSync(join(tmpdir(), 'chatlab-web-app-'));
});

afterEach(async () => {
  for (const ws of clients.splice(0)) {
    ws.on('error', () => {});
    ws.terminate();
  }
  await web?.stop();
  web = undefined;
  target?.server.close();
  target = undefined;
  rmSync(appDir, { recursive: true, force: true });
});

describe('the web bridge', () => {
  it('forwards one message as one frame, byte for byte, both ways; split and batched TCP reads become whole messages', async () => {
    const { ws, tcp } = await bridgeTo();
    const sent = '{"type":"say","text":"hello 👋 你好","id":1}';
    const atServer = tcpFrames(tcp, 1);
    ws.send(sent);
    await atServer;
    // Byte for byte: what the server read is the message plus its newline.
    const raw = new Promise<Buffer>((resolve) => tcp.once('data', resolve));
    ws.send('{"type":"ping"}\n');
    expect((await within(raw, 2_000, 'the ping on the TCP side')).toString()).toBe('{"type":"ping"}\n');
    const atBrowser = messages(ws, 3);
    // Half a frame, then its end and a whole one in one write, then one with \r\n.
    tcp.write('{"type":"message","from":"bob",');
    await new Promise((resolve) => setImmediate(resolve));
    tcp.write('"text":"こんにちは"}\n{"type":"ok","id":1}\n{"type":"pong"}\r\n');
    expect(await within(atBrowser, 2_000, 'three messages')).toEqual(['{"type":"message","from":"bob","text":"こんにちは"}', '{"type":"ok","id":1}', '{"type":"pong"}']);
  });

  it('answers a message that is not one JSON frame with bad_frame, and forwards none of it', async () => {
    const { ws, tcp } = await bridgeTo();
    const bad = ['not json', '{"type":"say","text":"a"}\n{"type":"say","text":"b"}', '[1,2]', '{"text":"no type"}', ''];
    const answers = messages(ws, bad.length + 1);
    for (const message of bad) ws.send(message);
    ws.send(Buffer.from('{"type":"ping"}'), { binary: true });
    const errors = (await within(answers, 2_000, 'the errors')).map((text) => JSON.parse(text) as RawFrame);
    expect(errors.map((e) => [e.type, e.code])).toEqual(Array(bad.length + 1).fill(['error', 'bad_frame']));
    expect(String(errors[1]?.message)).toMatch(/newline/);
    expect(String(errors[bad.length]?.message)).toMatch(/text message/);
    // The connection is still good, and nothing of the bad messages reached the server.
    const atServer = tcpFrames(tcp, 1);
    let seen = '';
    tcp.on('data', (chunk: Buffer) => (seen += chunk.toString()));
    ws.send('{"type":"say","text":"ok"}');
    expect(await within(atServer, 2_000, 'the good frame')).toEqual([{ type: 'say', text: 'ok' }]);
    expect(seen).toBe('{"type":"say","text":"ok"}\n');
  });

  it('answers a message over 65,536 bytes with frame_too_large and closes both sides, as the protocol does', async () => {
    const { ws, tcp } = await bridgeTo();
    const ended = new Promise((resolve) => tcp.once('end', resolve));
    const answer = messages(ws, 1);
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    // Exactly one byte over: the frame plus its newline is 65,537 bytes.
    ws.send(`{"type":"say","text":"${'x'.repeat(MAX_FRAME_BYTES - 24)}"}`);
    const [error] = await within(answer, 2_000, 'the error');
    expect(JSON.parse(error as string)).toMatchObject({ type: 'error', code: 'frame_too_large' });
    expect(await within(closed, 2_000, 'the WebSocket to close')).toBe(1009);
    await within(ended, 2_000, 'the TCP side to get FIN');
  });

  it('closes the tab when the server closes, and the TCP side when the tab goes', async () => {
    const first = await bridgeTo();
    const closed = new Promise<[number, string]>((resolve) => first.ws.once('close', (code, reason) => resolve([code, reason.toString()])));
    first.tcp.end();
    expect(await within(closed, 2_000, 'the WebSocket to close')).toEqual([1000, 'the server closed the connection']);
    await web?.stop();
    target?.server.close();
    const second = await bridgeTo();
    const ended = new Promise((resolve) => second.tcp.once('end', resolve));
    second.ws.close();
    await within(ended, 2_000, 'the TCP side to get FIN');
  });

  it('says why when the target cannot be reached', async () => {
    target = await fakeTarget();
    const port = target.port;
    await new Promise((resolve) => target?.server.close(resolve));
    web = await startWebServer({ port: 0, target: { host: '127.0.0.1', port }, appDir });
    const ws = new WebSocket(`ws://127.0.0.1:${web.address.port}/chat?session=bridge-test-session-0002`);
    clients.push(ws);
    const [code, reason] = await within(new Promise<[number, string]>((resolve) => ws.once('close', (c, r) => resolve([c, r.toString()]))), 5_000, 'the close');
    expect(code).toBe(1011);
    expect(reason).toBe(`could not reach 127.0.0.1:${port} (ECONNREFUSED)`);
  });

  it('pauses the server side while the tab does not read, within the bound, and delivers every frame in order after', async () => {
    const high = 64 * 1024;
    const { ws, tcp, bridge } = await bridgeTo({ highWaterBytes: high, lowWaterBytes: 16 * 1024 });
    ws.pause();
    const paused = flow(bridge, 'server', true);
    // ~20 MB: more than the loopback socket buffers on both ends can hold, so the bridge must hold back.
    const frames = 5_000;
    const line = (i: number) => `{"type":"message","from":"bob","text":"${String(i).padStart(4_000, '.')}"}\n`;
    let written = 0;
    let writerDone = false;
    const writeAll = () => {
      while (written < frames) if (!tcp.write(line(written++))) return void tcp.once('drain', writeAll);
      writerDone = true;
    };
    writeAll();
    await within(paused, 5_000, 'the bridge to pause the TCP side');
    // Give a bridge that kept reading the time to show it: the server must stay blocked, and what
    // waits for the tab within the bound plus one read.
    await settle();
    expect(writerDone).toBe(false);
    expect(bridge.browserBacklog).toBeLessThanOrEqual(high + 64 * 1024);
    expect(bridge.isServerPaused).toBe(true);
    const all = messages(ws, frames);
    const resumed = flow(bridge, 'server', false);
    ws.resume();
    await within(resumed, 5_000, 'the bridge to resume the TCP side');
    const got = await within(all, 10_000, 'every frame');
    expect(got.map((text) => Number((JSON.parse(text) as { text: string }).text.replace(/^\.+/, '')))).toEqual([...Array(frames).keys()]);
  });

  it('stops reading the tab while the server does not read, and forwards everything once it does', async () => {
    const { ws, tcp, bridge } = await bridgeTo();
    tcp.pause();
    const paused = flow(bridge, 'browser', true);
    const count = 400;
    const text = 'y'.repeat(60_000);
    for (let i = 0; i < count; i++) ws.send(`{"type":"say","text":"${text}","id":${i}}`);
    await within(paused, 10_000, 'the bridge to pause the WebSocket side');
    await settle();
    // The TCP write buffer holds at most its high-water mark plus the one frame that crossed it.
    expect(bridge.serverBacklog).toBeLessThanOrEqual(tcp.writableHighWaterMark + MAX_FRAME_BYTES);
    const all = tcpFrames(tcp, count);
    tcp.resume();
    const got = await within(all, 10_000, 'every frame at the server');
    expect(got.map((f) => f.id)).toEqual([...Array(count).keys()]);
  });

  it('refuses an upgrade from another origin (cross-site WebSocket hijacking) and accepts its own', async () => {
    target = await fakeTarget();
    web = await startWebServer({ port: 0, target: { host: '127.0.0.1', port: target.port }, appDir });
    const url = `ws://127.0.0.1:${web.address.port}/chat?session=bridge-test-session-0003`;
    const foreign = new WebSocket(url, { origin: 'http://evil.example' });
    clients.push(foreign);
    const status = await within(new Promise<number>((resolve) => foreign.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0))), 5_000, 'the refusal');
    expect(status).toBe(403);
    // A page on a DNS name rebound to 127.0.0.1 is another origin too.
    const rebound = new WebSocket(url.replace('0003', '0004'), { origin: `http://attacker.example:${web.address.port}` });
    clients.push(rebound);
    expect(await within(new Promise<number>((resolve) => rebound.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0))), 5_000, 'the refusal')).toBe(403);
    const own = new WebSocket(url.replace('0003', '0005'), { origin: `http://localhost:${web.address.port}` });
    clients.push(own);
    await within(new Promise((resolve, reject) => own.once('open', resolve).once('error', reject)), 5_000, 'its own origin to be let in');
  });

  it("feeds the session's diagram: a diagram socket opened late gets the rows so far, then the close", async () => {
    const { ws, tcp } = await bridgeTo();
    const hello = messages(ws, 1);
    tcp.write('{"type":"hello","protocol":"chatlab/1"}\n');
    await within(hello, 2_000, 'the hello');
    const login = tcpFrames(tcp, 1);
    ws.send('{"type":"login","user":"alice","password":"wonderland"}');
    await within(login, 2_000, 'the login at the server');
    // A second chat socket for the same session is refused.
    const twice = new WebSocket(`ws://127.0.0.1:${web?.address.port}/chat?session=bridge-test-session-0001`);
    clients.push(twice);
    expect(await within(new Promise<number>((resolve) => twice.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0))), 2_000, 'the refusal')).toBe(409);

    const wire = new WebSocket(`ws://127.0.0.1:${web?.address.port}/wire?session=bridge-test-session-0001`);
    clients.push(wire);
    const [first] = await within(messages(wire, 1), 2_000, 'the rows so far');
    const update = JSON.parse(first as string) as DiagramUpdate;
    expect(update.lifelines?.map((l) => l.id)).toEqual([0, 1]);
    expect(update.rows.map((r) => [r.type ?? r.kind, r.step])).toEqual([
      ['listen', 1],
      ['connect', 2],
      ['hello', 3],
      ['login', 4],
    ]);
    expect(update.rows[3]?.detail).toBe('{"type":"login","user":"alice","password":"wonderland"}');
    // The server closes: the diagram shows its FIN.
    const fin = new Promise<DiagramUpdate>((resolve) => {
      wire.on('message', (data: WebSocket.RawData) => {
        const next = JSON.parse(data.toString()) as DiagramUpdate;
        if (next.rows.some((r) => r.kind === 'fin')) resolve(next);
      });
    });
    tcp.end();
    const closing = await within(fin, 2_000, 'the FIN row');
    expect(closing.rows.find((r) => r.kind === 'fin')).toMatchObject({ dir: 's2c', step: 10, from: 0, to: 1 });
  });

  it('refuses a page request under a Host that is not its own (DNS rebinding)', async () => {
    target = await fakeTarget();
    web = await startWebServer({ port: 0, target: { host: '127.0.0.1', port: target.port }, appDir });
    const answer = await new Promise<number>((resolve, reject) => {
      const request = httpRequest({ host: '127.0.0.1', port: web?.address.port, path: '/', headers: { host: `rebound.example:${web?.address.port}` } }, (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      });
      request.once('error', reject).end();
    });
    expect(answer).toBe(403);
  });
});
