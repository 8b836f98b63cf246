// The inspector's step checklist against real lesson servers: a broken server must never light
// more of the 10 steps than the correct one (issue 12, item 6).
import { afterEach, describe, expect, it } from 'vitest';
import { startInspector } from '../src/inspector/inspector.ts';
import type { SessionModel } from '../src/inspector/session-model.ts';
import { findLesson, startLessonServer } from '../src/lessons/runtime/index.ts';
import { FrameSocket } from '../test-support/frame-socket.ts';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/**
 * Sends a login through the inspector in 5-byte pieces, as a slow network could deliver it, and
 * returns the steps the inspector lit. `answersEachPiece`: the server answers every piece (the
 * naive server reads each as a frame), so the next piece waits for that answer and every piece is
 * a read of its own; the correct server says nothing until the whole login is in.
 */
async function stepsLitBy(file: string, answersEachPiece: boolean): Promise<{ steps: number[]; errorSteps: (number | null)[] }> {
  const lesson = findLesson(4);
  if (!lesson) throw new Error('no lesson 4');
  const server = await startLessonServer(lesson, { file });
  cleanups.push(() => server.stop());
  const inspector = await startInspector({ target: { host: server.host, port: server.port }, framing: 'chatlab', view: 'none' });
  cleanups.push(() => inspector.stop());
  const client = await FrameSocket.connect(inspector.address.port, { label: file });
  await client.next('hello');
  const login = JSON.stringify({ type: 'login', user: 'alice', password: 'wonderland' });
  for (let at = 0; at < login.length; at += 5) {
    // The newline rides with the last piece: its answer comes once the inspector has the whole login.
    await client.sendRaw(`${login.slice(at, at + 5)}${at + 5 >= login.length ? '\n' : ''}`);
    if (answersEachPiece) await client.next('error');
  }
  client.end();
  // The lesson server hangs up when the client does, after everything it had to say.
  await client.closed(5_000);
  await inspector.waitFor((m: SessionModel) => m.rows.some((r) => r.kind === 'fin' && r.dir === 's2c'), 5_000, "the server's FIN");
  const model = inspector.model;
  return {
    steps: model.steps.filter((s) => s.seen).map((s) => s.step),
    errorSteps: model.rows.filter((r) => r.label === 'error').map((r) => r.step),
  };
}

describe('inspector step badges, lesson 04 login sent in 5-byte pieces', () => {
  it('the naive server, answering each piece with bad_frame, lights no more steps than the correct one', async () => {
    const [correct, naive] = await Promise.all([stepsLitBy('server.mjs', false), stepsLitBy('server-naive.mjs', true)]);
    expect(correct.steps).toEqual([1, 2, 3, 4, 10]);
    expect(naive.errorSteps).toHaveLength(11);
    expect(naive.errorSteps.every((step) => step === null)).toBe(true);
    expect(naive.steps).toEqual(correct.steps);
  });
});
