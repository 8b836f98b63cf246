import { createServer, type AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { findLesson, type Lesson } from './catalogue.ts';
import { LessonRunError, startLessonSession, type LessonSessionOptions } from './session.ts';

const lesson = (n: number): Lesson => findLesson(n) as Lesson;

function options(extra: Partial<LessonSessionOptions> = {}): LessonSessionOptions {
  return { port: 0, inspectPort: 0, output: new PassThrough(), color: false, paceMs: 0, ...extra };
}

describe('startLessonSession (chatlab lesson run)', () => {
  it('refuses --broken for a lesson without a broken version, naming the ones that have one', async () => {
    const refused = startLessonSession(lesson(1), options({ broken: true }));
    await expect(refused).rejects.toBeInstanceOf(LessonRunError);
    await expect(refused).rejects.toThrow('lesson 1 has no broken version (lessons 4, 7 and 14 do).');
  });

  it('refuses the same port for the server and the inspector', async () => {
    await expect(startLessonSession(lesson(3), options({ port: 7123, inspectPort: 7123 }))).rejects.toThrow(
      new LessonRunError('--port and --inspect-port must differ: the inspector sits in front of the server.'),
    );
  });

  it('names the flag and the address of an inspector port that is taken', async () => {
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const { port } = busy.address() as AddressInfo;
    try {
      await expect(startLessonSession(lesson(3), options({ inspectPort: port }))).rejects.toThrow(
        new LessonRunError(`127.0.0.1:${port} is already in use: is another lesson running? Pick another --inspect-port (0 = any free port).`),
      );
    } finally {
      await new Promise((resolve) => busy.close(resolve));
    }
  });

  it('plays the scripted users through the inspector and, with once, stops when they are done', async () => {
    const output = new PassThrough();
    const printed: string[] = [];
    output.on('data', (chunk: Buffer) => printed.push(chunk.toString()));
    const session = await startLessonSession(lesson(3), options({ output, once: true }));
    expect(await session.play()).toBe('stopped');
    const text = printed.join('');
    expect(text).toMatch(/^lesson 03 · Accept: a session per connection, and hello: server\.mjs listening on 127\.0\.0\.1:\d+, inspector on 127\.0\.0\.1:\d+ \(Ctrl-C to stop\)$/m);
    expect(text).toContain('   alice │ server sent: {"type":"hello","protocol":"chatlab/1"}');
    expect(text).not.toContain('Your turn');
  });
});
