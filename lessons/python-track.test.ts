// The Python track's test: every lesson's server.py and client.py pass the same verifier steps
// as the Node files beside them, the broken copies fail at the same step, and the README's Python
// sections match the files and a real run (which must print what the Node run prints).
// Every lesson runs at once (describe.concurrent): each part starts its own processes on free
// ports, and Python programs start in a few tens of milliseconds, so the file takes ~10 s.
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { recordRun, withTrackFileSections } from '../src/lessons/readme/index.ts';
import {
  findTrackLesson,
  hasCheckedClient,
  inTrack,
  LESSON_HOST,
  lessonServerScope,
  lessonVerifyFlags,
  listLessons,
  listTrackLessons,
  readReadme,
  readSection,
  startLessonServer,
  startLessonSession,
  trackSection,
  verifyLessonClient,
  verifyLessonServer,
} from '../src/lessons/runtime/index.ts';
import { renderText, type VerifyReport } from '../src/verify/index.ts';
import { holdPort } from '../test-support/held-port.ts';
import { rejection } from '../test-support/promises.ts';

function explain(report: VerifyReport): string {
  return `\n${renderText(report)}`;
}

/** A Node transcript as the Python run must print it: the same lines, only the commands differ. */
function asPython(transcript: string): string {
  return transcript.replace(/\bnode (\S+)\.mjs\b/g, 'python3 $1.py');
}

describe('the Python track', () => {
  it('has the ten core lessons (and bonus 11 to 13), and every one is in the README of its lesson', () => {
    const core = listLessons().filter((lesson) => !lesson.bonus || [11, 12, 13].includes(lesson.number));
    expect(listTrackLessons('python').map((l) => l.slug)).toEqual(expect.arrayContaining(core.map((l) => l.slug)));
    for (const lesson of core) expect(readSection(readReadme(lesson), 'diff-python'), lesson.slug).not.toBeNull();
  });

  it('has the UDP lesson (15), and says in lesson 14 why the Redis one is Node.js only', () => {
    const [cluster, udp] = [14, 15].map((number) => listLessons().find((l) => l.number === number)!);
    expect(inTrack(udp!, 'python')?.server).toBe('server.py');
    expect(readSection(readReadme(udp!), 'transcript-python')).not.toBeNull();
    expect(inTrack(cluster!, 'python')).toBeUndefined();
    expect(cluster!.notInTrack?.python).toMatch(/no Redis client.*redis-py/);
    expect(readReadme(cluster!)).toMatch(/### In Python\n\nThis lesson is the one the Python track leaves out/);
  });
});

describe.concurrent('the Python lessons', () => {
  for (const lesson of listTrackLessons('python')) {
    const node = listLessons().find((l) => l.slug === lesson.slug)!;
    const scope = lessonServerScope(lesson);

    it(`${lesson.slug}: ${lesson.server} passes chatlab verify ${lessonVerifyFlags(lesson)}`, async () => {
      const report = await verifyLessonServer(lesson, lesson.server);
      expect(report.passed, explain(report)).toBe(true);
      expect(report.through).toBe(scope.through);
      if (scope.only) expect(report.extensions?.checked).toEqual(scope.only);
    });

    // A UDP lesson's client is not checked: the client checks speak TCP (as for its Node twin).
    if (hasCheckedClient(lesson)) {
      it(`${lesson.slug}: ${lesson.client} passes the client checks through step ${lesson.step}`, async () => {
        const report = await verifyLessonClient(lesson);
        expect(report.passed, explain(report)).toBe(true);
      });
    }

    const broken = lesson.broken;
    if (broken) {
      it(`${lesson.slug}: ${broken.file} (${broken.bug}) fails verify at step ${broken.failsAt}, like its Node twin`, async () => {
        const report = await verifyLessonServer(lesson, broken.file, {}, 'broken');
        expect(report.passed, `${broken.file} passed, but it ${broken.bug}`).toBe(false);
        expect(report.failedStep, explain(report)).toBe(broken.failsAt);
      });
    }

    it(`${lesson.slug}: README Python transcript is what a real run prints, line for line the Node one`, async () => {
      // Waits end on the line they wait for: the bound only matters on a loaded machine.
      const run = await recordRun(lesson, { timeoutMs: 15_000 });
      const readme = readReadme(lesson);
      expect(readSection(readme, trackSection('transcript', 'python')), 'run `npm run lessons:diagrams` to update the README').toBe(run.transcripts);
      expect(run.transcripts, 'the Python programs must print what the Node ones print').toBe(asPython(readSection(readme, 'transcript') ?? ''));
    });

    it(`${lesson.slug}: README Python "what changed" is the diff of the real files`, () => {
      const readme = readReadme(lesson);
      expect(withTrackFileSections(readme, node, 'python'), 'run `npm run lessons:diagrams -- --no-run` to update the README').toBe(readme);
    });

    it(`${lesson.slug}: is the Node lesson seen through the Python track`, () => {
      expect(inTrack(node, 'python')).toEqual(lesson);
      expect(lesson.dir).toBe(node.dir);
    });
  }
});

describe.concurrent('a Python lesson server on a port that is taken', () => {
  for (const number of [10, 15]) {
    const lesson = findTrackLesson(number, 'python')!;
    it(`${lesson.slug}: server.py says in one line that the port is busy and exits 1, no traceback; lesson run names the port`, async () => {
      const { port, release } = await holdPort(lesson.transport === 'udp' ? 'udp' : 'tcp');
      try {
        const failure = await rejection(startLessonServer(lesson, { port }));
        expect(failure.message).not.toContain('Traceback');
        expect(failure.message).toBe(
          `lesson ${lesson.slug}: server.py exited (1) before listening. It printed:\n    port ${port} is busy: address already in use ${LESSON_HOST}:${port} (EADDRINUSE)`,
        );
        const run = await rejection(startLessonSession(lesson, { port, inspectPort: 0, output: new PassThrough(), color: false, paceMs: 0 }));
        expect(run.message).toBe(`${LESSON_HOST}:${port} is already in use: is another lesson running? Pick another --port (0 = any free port).`);
      } finally {
        await release();
      }
    });
  }
});
