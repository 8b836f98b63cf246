import net from 'node:net';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { startInspector, type FramingMode, type Inspector } from '../src/inspector/index.ts';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/**
 * A scripted IRC-style server: greets with a NOTICE, welcomes after NICK + USER, echoes
 * PRIVMSG back, answers PING, and says ERROR then closes on QUIT. Lines end with \r\n.
 */
async function startIrcServer(): Promise<number> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.write(':irc.local NOTICE * :*** Looking up your hostname\r\n');
    let buffered = '';
    let nick = '*';
    socket.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      let newline: number;
      while ((newline = buffered.indexOf('\n')) !== -1) {
        const line = buffered.slice(0, newline).replace(/\r$/, '');
        buffered = buffered.slice(newline + 1);
        const [command, ...rest] = line.split(' ');
        if (command === 'NICK') nick = rest[0] ?? '*';
        else if (command === 'USER') socket.write(`:irc.local 001 ${nick} :Welcome to the IRC network, ${nick}\r\n`);
        else if (command === 'PRIVMSG') socket.write(`:${nick}!${nick}@localhost ${line}\r\n`);
        else if (command === 'PING') socket.write(`PONG ${rest.join(' ')}\r\n`);
        else if (command === 'QUIT') socket.end('ERROR :Closing link (Quit: bye)\r\n');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return (server.address() as net.AddressInfo).port;
}

/** Plays the client side: waits for each expected reply before the next line. */
async function ircSession(port: number): Promise<string> {
  const socket = net.connect({ port, host: '127.0.0.1' });
  socket.setEncoding('utf8');
  let received = '';
  const waitFor = (text: string): Promise<void> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for "${text}" from the IRC server (got ${JSON.stringify(received)})`)), 5_000);
      const check = (): void => {
        if (!received.includes(text)) return;
        clearTimeout(timer);
        socket.off('data', check);
        resolve();
      };
      socket.on('data', check);
      check();
    });
  socket.on('data', (chunk: string) => (received += chunk));
  await waitFor('NOTICE');
  socket.write('NICK alice\r\nUSER alice 0 * :Alice\r\n');
  await waitFor(' 001 ');
  socket.write('PRIVMSG #chat :hello 👋\r\n');
  await waitFor('PRIVMSG #chat');
  socket.write('PING :42\r\n');
  await waitFor('PONG');
  socket.write('QUIT :bye\r\n');
  await new Promise((resolve) => socket.once('close', resolve));
  return received;
}

async function inspectIrc(framing: FramingMode): Promise<{ inspector: Inspector; text: string }> {
  const ircPort = await startIrcServer();
  const out = new PassThrough();
  let text = '';
  out.on('data', (c: Buffer) => (text += c.toString()));
  const inspector = await startInspector({ target: { host: '127.0.0.1', port: ircPort }, view: 'plain', output: out, color: false, framing });
  cleanups.push(() => inspector.stop());
  await ircSession(inspector.address.port);
  await inspector.waitFor((m) => m.counters.open === 0, 5_000, 'the IRC connection to close');
  await inspector.stop();
  return { inspector, text };
}

describe('inspector on a protocol it does not know', () => {
  it('shows a scripted IRC exchange as line frames, labelled by command', async () => {
    const { inspector, text } = await inspectIrc('auto');
    expect(inspector.model.connectionFraming(1)).toBe('lines');
    const lines = inspector.model.rows.filter((r) => r.kind === 'line').map((r) => `${r.dir} ${r.label} | ${r.summary}`);
    expect(lines).toEqual([
      's2c NOTICE | :irc.local NOTICE * :*** Looking up your hostname',
      'c2s NICK | NICK alice',
      'c2s USER | USER alice 0 * :Alice',
      's2c 001 | :irc.local 001 alice :Welcome to the IRC network, alice',
      'c2s PRIVMSG | PRIVMSG #chat :hello 👋',
      's2c PRIVMSG | :alice!alice@localhost PRIVMSG #chat :hello 👋',
      'c2s PING | PING :42',
      's2c PONG | PONG :42',
      'c2s QUIT | QUIT :bye',
      's2c ERROR | ERROR :Closing link (Quit: bye)',
    ]);
    // No chatlab steps beyond the TCP ones: the inspector does not pretend to understand IRC.
    expect(inspector.model.steps.filter((s) => s.seen).map((s) => s.step)).toEqual([1, 2, 10]);
    expect(text).toMatch(/├─+ NOTICE ─+▶│ {2}:irc\.local NOTICE \* :\*\*\* Looking up your hostname/);
    expect(text).toMatch(/│◀─+ PRIVMSG ─+┤ {2}PRIVMSG #chat :hello 👋/);
  });

  it('--framing raw shows the same bytes as raw chunks, one per read, in a printable view', async () => {
    const { inspector } = await inspectIrc('raw');
    const chunks = inspector.model.rows.filter((r) => r.kind === 'chunk');
    expect(chunks.length).toBeGreaterThanOrEqual(5);
    expect(chunks.every((r) => r.label === `${r.item?.raw.length} B`)).toBe(true);
    expect(chunks[0]?.summary).toBe(':irc.local NOTICE * :*** Looking up your hostname\\r\\n');
    const c2s = Buffer.concat(chunks.filter((r) => r.dir === 'c2s').map((r) => r.item?.raw ?? Buffer.alloc(0)));
    expect(c2s.toString()).toBe('NICK alice\r\nUSER alice 0 * :Alice\r\nPRIVMSG #chat :hello 👋\r\nPING :42\r\nQUIT :bye\r\n');
  });

  it('falls back to raw chunks for a binary protocol', async () => {
    const server = net.createServer((socket) => socket.end(Buffer.from([0x16, 0x03, 0x01, 0x00, 0x05, 0xde, 0xad, 0xbe, 0xef, 0x00])));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const inspector = await startInspector({ target: { host: '127.0.0.1', port: (server.address() as net.AddressInfo).port }, view: 'none' });
    cleanups.push(() => inspector.stop());
    const socket = net.connect({ port: inspector.address.port, host: '127.0.0.1' });
    socket.resume();
    await new Promise((resolve) => socket.once('close', resolve));
    await inspector.waitFor((m) => m.counters.open === 0, 5_000, 'the connection to close');
    expect(inspector.model.connectionFraming(1)).toBe('raw');
    expect(inspector.model.rows.find((r) => r.kind === 'chunk')?.summary).toBe('16 03 01 00 05 DE AD BE EF 00');
  });
});
