import { connect, type Socket } from 'node:net';
import { FrameDecoder } from '../../src/protocol/index.ts';

/**
 * Connects to a chatlab/1 server on 127.0.0.1, answers `hello` with a login, and resolves with the
 * socket once the `welcome` came (presence and history_end before it are passed over). Rejects,
 * with the socket destroyed, on any other answer, an undecodable one, an error, or no welcome
 * within `timeoutMs`. The caller attaches its own listeners to the socket it gets.
 */
export function loginSocket(port: number, user: string, password: string, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1', noDelay: true });
    const decoder = new FrameDecoder();
    const timer = setTimeout(() => fail(new Error(`${user}: no welcome within ${timeoutMs / 1000} s`)), timeoutMs);
    const fail = (error: Error): void => {
      clearTimeout(timer);
      socket.destroy();
      reject(error);
    };
    const onData = (chunk: Buffer): void => {
      for (const result of decoder.push(chunk)) {
        if (!result.ok) return fail(new Error(`${user}: undecodable answer (${result.message})`));
        if (result.frame.type === 'hello') socket.write(`${JSON.stringify({ type: 'login', user, password })}\n`);
        else if (result.frame.type === 'welcome') {
          clearTimeout(timer);
          socket.off('data', onData);
          socket.off('error', fail);
          return resolve(socket);
        } else if (result.frame.type !== 'presence' && result.frame.type !== 'history_end') {
          return fail(new Error(`${user}: login answered ${JSON.stringify(result.frame).slice(0, 200)}`));
        }
      }
    };
    socket.on('data', onData);
    socket.once('error', fail);
  });
}
