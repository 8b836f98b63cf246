import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderText, type VerifyReport } from '../src/verify/index.ts';
import { recordRun, renderDiagramSection, withFileSections, withNominalPorts } from '../src/lessons/readme/index.ts';
import {
  exportTrace,
  findLesson,
  hasCheckedClient,
  type Lesson,
  lessonServerScope,
  lessonTraces,
  lessonVerifyFlags,
  readReadme,
  readSection,
  tracePath,
  verifyLessonClient,
  verifyLessonServer,
} from '../src/lessons/runtime/index.ts';

/** What a failed verification looks like in a test failure: the verifier's own report. */
function explain(report: VerifyReport): string {
  return `\n${renderText(report)}`;
}

function lessonOrThrow(number: number): Lesson {
  const lesson = findLesson(number);
  if (!lesson) throw new Error(`lessons/lessons.json has no lesson ${number}`);
  return lesson;
}

/**
 * The test every lesson has (lessons/NN-slug/lesson.test.ts calls it with its number):
 * - its server passes `chatlab verify --through N` (a bonus lesson: also the checks of the
 *   extension groups it implements, every one of them run, none left out as not advertised);
 * - its client, when it has one, passes the client checks of step N;
 * - its broken copy, when it keeps one, fails exactly at step N (so the check can tell);
 * - its README matches its code and a real run: the "what changed" diff, the transcript of
 *   the scripted users, and the diagram exported from the recorded trace.
 * The parts run concurrently: each starts its own processes on free ports.
 */
export function describeLesson(number: number): void {
  const lesson = lessonOrThrow(number);
  describe.concurrent(`lesson ${lesson.slug}`, () => {
    const scope = lessonServerScope(lesson);
    it(`server passes chatlab verify ${lessonVerifyFlags(lesson)}`, async () => {
      const report = await verifyLessonServer(lesson, lesson.server);
      expect(report.passed, explain(report)).toBe(true);
      expect(report.through).toBe(scope.through);
      if (scope.only) expect(report.extensions?.checked).toEqual(scope.only);
    });

    if (hasCheckedClient(lesson)) {
      it(`client passes the client checks through step ${lesson.step}`, async () => {
        const report = await verifyLessonClient(lesson);
        expect(report.passed, explain(report)).toBe(true);
      });
    }

    const broken = lesson.broken;
    if (broken) {
      it(`${broken.file} (${broken.bug}) fails verify at step ${broken.failsAt}`, async () => {
        const report = await verifyLessonServer(lesson, broken.file, {}, 'broken');
        expect(report.passed, `${broken.file} passed, but it ${broken.bug}`).toBe(false);
        expect(report.failedStep, explain(report)).toBe(broken.failsAt);
      });
    }

    it('README transcript is what a real run prints', async () => {
      const run = await recordRun(lesson);
      expect(readSection(readReadme(lesson), 'transcript'), 'run `npm run lessons:diagrams` to update the README').toBe(run.transcripts);
    });

    it('README "what changed" is the diff of the real files', () => {
      const readme = readReadme(lesson);
      expect(withFileSections(readme, lesson), 'run `npm run lessons:diagrams` to update the README').toBe(readme);
    });

    for (const { file, section, nominal } of lessonTraces(lesson)) {
      it(`recorded ${file} is on the README's ports, so a replay shows what the README shows`, () => {
        const trace = readFileSync(tracePath(lesson, file), 'utf8');
        expect(withNominalPorts(trace, nominal), 'run `npm run lessons:diagrams -- --no-run` to update the trace').toBe(trace);
        expect(trace).toContain(`"listen":{"host":"127.0.0.1","port":${nominal.inspector}},"target":{"host":"127.0.0.1","port":${nominal.server}}`);
      });

      it(`README ${section} is the inspector export of ${file}`, async () => {
        const expected = renderDiagramSection(await exportTrace(tracePath(lesson, file), 'mermaid', nominal), file);
        expect(readSection(readReadme(lesson), section), 'run `npm run lessons:diagrams` to update the README').toBe(expected.trim());
      });
    }
  });
}
