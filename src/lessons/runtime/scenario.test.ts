import { describe, expect, it } from 'vitest';
import { findLesson, type Lesson } from './catalogue.ts';
import { startLessonServer } from './processes.ts';
import { runScenario } from './scenario.ts';

describe('runScenario', () => {
  it('fails with a clear message, and stops its users, when an expected line never comes', async () => {
    const lesson = findLesson(3) as Lesson;
    const server = await startLessonServer(lesson);
    try {
      const run = runScenario({
        lesson,
        port: server.port,
        server: server.terminal,
        timeoutMs: 2_000,
        scenario: {
          description: 'alice expects a welcome that lesson 03 never sends',
          steps: [{ start: 'alice' }, { expect: 'alice', line: 'logged in as alice; online: alice' }],
        },
      });
      await expect(run).rejects.toThrow(
        /lesson 03-accept, scripted run: alice did not print, within 2000 ms, "logged in as alice; online: alice"\. It showed:\n {4}connected to 127\.0\.0\.1:\d+\n {4}server sent: \{"type":"hello","protocol":"chatlab\/1"\}/,
      );
      // alice's client was stopped: the server saw her connection close.
      await server.terminal.expect('#1 disconnected', 5_000);
    } finally {
      await server.stop();
    }
  });

  it('refuses a step on a user that was never started', async () => {
    const lesson = findLesson(1) as Lesson;
    const server = await startLessonServer(lesson);
    try {
      await expect(runScenario({ lesson, port: server.port, server: server.terminal, scenario: { description: '', steps: [{ type: 'bob', text: 'hi' }] } })).rejects.toThrow(
        '"bob" is used before it was started',
      );
    } finally {
      await server.stop();
    }
  });
});

describe('startLessonServer', () => {
  it('reports a server that exits before listening, with what it printed', async () => {
    const lesson = findLesson(1) as Lesson;
    const first = await startLessonServer(lesson);
    try {
      // Same port twice: the second one dies with EADDRINUSE.
      await expect(startLessonServer(lesson, { port: first.port })).rejects.toThrow(/lesson 01-listen: server\.mjs exited \(1\) before listening\. It printed:[\s\S]*EADDRINUSE/);
    } finally {
      await first.stop();
    }
  });
});
