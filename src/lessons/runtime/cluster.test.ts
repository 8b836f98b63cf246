import net from 'node:net';
import { describe, expect, it, type TestContext } from 'vitest';
import { clusterNominalPorts, startRoundRobin } from './cluster.ts';
import { LESSON_HOST } from './processes.ts';
import { startRedisServer } from './redis-server.ts';
import { within } from './within.ts';

/** A server that greets every connection with its name and a newline, then echoes. */
async function namedServer(context: TestContext, name: string): Promise<number> {
  const server = net.createServer(function greet(socket) {
    socket.on('error', () => {});
    socket.write(`${name}\n`);
    socket.pipe(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, LESSON_HOST, resolve));
  context.onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return (server.address() as net.AddressInfo).port;
}

/**
 * Connects, sends `text`, closes our side once what arrived ends with `last` (default: the echo
 * of `text`), and resolves with everything received by the time the other side closed too.
 */
function exchange(port: number, text: string, last = text): Promise<string> {
  return within(
    new Promise<string>((resolve, reject) => {
      const socket = net.connect(port, LESSON_HOST);
      let received = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => {
        received += chunk;
        if (received.endsWith(last)) socket.end();
      });
      socket.on('error', reject);
      socket.on('close', () => resolve(received));
      socket.write(text);
    }),
    5_000,
    `no exchange through 127.0.0.1:${port}`,
  );
}

describe.concurrent('lesson clusters', () => {
  it('round-robin sends each new connection to the next node in turn, bytes and FIN passed on', async (context) => {
    const targets = [
      { host: LESSON_HOST, port: await namedServer(context, 'A') },
      { host: LESSON_HOST, port: await namedServer(context, 'B') },
    ];
    const balancer = await startRoundRobin(targets);
    context.onTestFinished(() => balancer.stop());
    const seen: string[] = [];
    for (let i = 0; i < 4; i++) seen.push(await exchange(balancer.port, `ping ${i}\n`));
    expect(seen).toEqual(['A\nping 0\n', 'B\nping 1\n', 'A\nping 2\n', 'B\nping 3\n']);
  });

  it('shows node A on 7070/7071 as every lesson, node B two ports up', () => {
    expect(clusterNominalPorts('A')).toEqual({ server: 7070, inspector: 7071 });
    expect(clusterNominalPorts('B')).toEqual({ server: 7072, inspector: 7073 });
  });

  it('starts a redis-server of its own on a free port, and stops it', async (context) => {
    const redis = await startRedisServer();
    context.onTestFinished(() => redis.stop()); // also when an expectation fails first
    expect(redis.url).toBe(`redis://127.0.0.1:${redis.port}`);
    // RESP inline command: Redis answers PING with +PONG.
    expect(await exchange(redis.port, 'PING\r\n', '\r\n')).toBe('+PONG\r\n');
    await redis.stop();
    const refused = await new Promise<string | undefined>((resolve) => {
      const socket = net.connect(redis.port, LESSON_HOST, () => {
        socket.destroy();
        resolve(undefined);
      });
      socket.on('error', (error: NodeJS.ErrnoException) => resolve(error.code));
    });
    expect(refused).toBe('ECONNREFUSED');
  });
});
