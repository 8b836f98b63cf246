import { InvalidArgumentError, type Command } from 'commander';
import { formatCheck, stepsLabel, type VerifyReport } from '../../verify/index.ts';
import {
  cachedStatus,
  checkLesson,
  colourDiff,
  findLesson,
  fixDiff,
  type Lesson,
  lessonChanges,
  type LessonCheckResult,
  lessonNumberLabel,
  LessonRunError,
  lessonVerifyFlags,
  listLessons,
  readCheckCache,
  renderReadme,
  saveCheckResult,
  startLessonSession,
  checkCacheFile,
  findTrackLesson,
  inTrack,
  isTrack,
  listTrackLessons,
  readRememberedTrack,
  rememberTrack,
  trackInfo,
  trackOf,
  trackSettingFile,
  TRACKS,
  type Track,
  initLesson,
  InitTargetExistsError,
  lessonInFolder,
  NotALessonFolderError,
} from '../../lessons/runtime/index.ts';
import { CliError, describeError } from '../errors.ts';
import { millisecondsUpTo, parsePort, parsePositiveInt } from '../options.ts';
import { colorEnabled, paint } from '../../terminal/index.ts';
import { waitForStopRequest } from '../stop-request.ts';
import { stopVerifierOnSignal } from '../verifier-signals.ts';

/** Accepts a lesson's number (`4`, `04`) or folder name (`04-login`). */
function parseLesson(value: string): Lesson {
  const lesson = /^\d+$/.test(value) ? findLesson(Number(value)) : listLessons().find((l) => l.slug === value);
  if (!lesson) {
    const numbers = listLessons().map((l) => l.number);
    throw new InvalidArgumentError(`there is no lesson "${value}": the lessons are ${Math.min(...numbers)} to ${Math.max(...numbers)} (see chatlab lesson list).`);
  }
  return lesson;
}

function parseLang(value: string): Track {
  if (!isTrack(value)) throw new InvalidArgumentError(`"${value}" is not a lesson track: choose ${TRACKS.join(' or ')}.`);
  return value;
}

/** The track to use: the one given with --lang (remembered for next time), else the one remembered. */
function chooseTrack(given: Track | undefined): Track {
  const file = trackSettingFile(checkCacheFile());
  if (given === undefined) return readRememberedTrack(file);
  try {
    rememberTrack(file, given);
  } catch {
    // A cache folder we cannot write to (read-only home): the choice holds for this command only.
  }
  return given;
}

/** Lesson numbers as runs, for people: [1, 2, …, 11, 15] → `1 to 11 and 15`. */
function numberRuns(numbers: number[]): string {
  const runs: [number, number][] = [];
  for (const n of numbers) {
    const last = runs.at(-1);
    if (last && n === last[1] + 1) last[1] = n;
    else runs.push([n, n]);
  }
  const parts = runs.map(([from, to]) => (from === to ? String(from) : `${from} to ${to}`));
  return parts.length > 1 ? `${parts.slice(0, -1).join(', ')} and ${parts.at(-1)}` : (parts[0] ?? 'none');
}

/** Why a lesson has no version in a track and never will, as one line; `undefined` when that is not so. */
function notInTrackLine(lesson: Lesson, track: Track): string | undefined {
  const reason = lesson.notInTrack?.[track];
  return reason && `lesson ${lesson.number} is ${trackInfo(trackOf(lesson)).label} only: ${reason}.`;
}

/**
 * A lesson in the chosen track, or one clear line saying why not: the reason a lesson stays out
 * of a track (lesson 14 in Python), else which lessons that track has.
 */
function inChosenTrack(lesson: Lesson, track: Track): Lesson {
  const view = inTrack(lesson, track);
  if (view) return view;
  const notInTrack = notInTrackLine(lesson, track);
  if (notInTrack) throw new CliError(notInTrack);
  const numbers = listTrackLessons(track).map((l) => l.number);
  throw new CliError(
    `lesson ${lesson.number} has no ${trackInfo(track).label} version yet: the ${trackInfo(track).label} track has lessons ${numberRuns(numbers)} (see chatlab lesson list --lang ${track}).`,
  );
}

const LANG_OPTION = ['--lang <language>', `the lessons' language: ${TRACKS.join(' or ')} (remembered for the next lesson commands)`] as const;

function useColor(): boolean {
  return colorEnabled(process.stdout);
}

function write(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

function statusText(status: ReturnType<typeof cachedStatus>['status'], color: boolean): string {
  switch (status) {
    case 'passed':
      return paint('green', '✓ passes', color);
    case 'failed':
      return paint('red', '✗ fails', color);
    case 'stale':
      return paint('yellow', '? changed since its last check', color);
    case 'unchecked':
      return paint('dim', '· not checked yet', color);
  }
}

function partLine(label: string, report: VerifyReport, expectFail?: number): string {
  if (expectFail !== undefined) {
    return report.passed
      ? `${label}: passes, but it should fail at step ${expectFail}`
      : `${label}: fails at step ${report.failedStep} (${report.checks.find((c) => c.status === 'failed')?.id ?? '?'}), as it should${report.failedStep === expectFail ? '' : ` — expected step ${expectFail}`}`;
  }
  const failed = report.checks.find((c) => c.status === 'failed');
  return report.passed
    ? `${label}: passes ${stepsLabel(report.through, report.only)} (${report.counts.passed} check${report.counts.passed === 1 ? '' : 's'})`
    : `${label}: fails at ${failed?.id ?? `step ${report.failedStep}`}: ${failed?.failure?.summary ?? ''}`;
}

function summarise(lesson: Lesson, result: LessonCheckResult, color: boolean): string {
  const lines = [
    `lesson ${lessonNumberLabel(lesson)} ${lesson.slug}: ${result.passed ? paint('green', 'passes', color) : paint('red', 'fails', color)}`,
    `  ${partLine(lesson.server, result.server)}`,
  ];
  if (result.client && lesson.client) lines.push(`  ${partLine(lesson.client, result.client)}`);
  if (result.broken && lesson.broken) lines.push(`  ${partLine(lesson.broken.file, result.broken.report, lesson.broken.failsAt)}`);
  return lines.join('\n');
}

/** `--dir`: the lesson with its programs from the learner's folder, or one clear line why not. */
function inFolder(lesson: Lesson, dir: string | undefined): Lesson {
  if (dir === undefined) return lesson;
  try {
    return lessonInFolder(lesson, dir);
  } catch (error) {
    if (error instanceof NotALessonFolderError) throw new CliError(`${error.message}: --dir is a folder with your ${error.server} (chatlab lesson init ${lesson.number} lays one out).`);
    throw error;
  }
}

/** What `lesson run` prints when it cannot go on: one line. */
function lessonRunFailed(error: unknown): never {
  if (error instanceof LessonRunError) throw new CliError(error.message);
  const message = describeError(error);
  throw new CliError(message.split('\n')[0] ?? message);
}

/** "checking lessons: 3/13" on stderr, rewritten in place; only on a terminal. */
function showProgress(done: number, total: number): void {
  if (process.stderr.isTTY) process.stderr.write(`\rchecking lessons: ${done}/${total}${done === total ? '\n' : ''}`);
}

/** Runs checks for several lessons, two at a time (each starts servers and clients of its own). */
async function checkMany(lessons: Lesson[], progress: (done: number) => void): Promise<LessonCheckResult[]> {
  const results: LessonCheckResult[] = new Array(lessons.length);
  let next = 0;
  let done = 0;
  const worker = async (): Promise<void> => {
    while (next < lessons.length) {
      const index = next++;
      results[index] = await checkLesson(lessons[index] as Lesson);
      saveCheckResult(results[index] as LessonCheckResult);
      progress(++done);
    }
  };
  await Promise.all([worker(), worker()]);
  return results;
}

function printList(color: boolean, track: Track): void {
  const cache = readCheckCache();
  const lessons = listTrackLessons(track);
  const others = TRACKS.filter((t) => t !== track)
    .map((t) => `${trackInfo(t).label}: --lang ${t}`)
    .join(', ');
  write(paint('dim', `The lessons in ${trackInfo(track).label} (also in ${others}).`, color));
  const width = Math.max(...lessons.map((l) => l.title.length));
  // cachedStatus hashes the lesson's files: once per lesson is enough.
  const statuses = lessons.map((lesson) => cachedStatus(lesson, cache).status);
  for (const [index, lesson] of lessons.entries()) {
    write(`${paint('bold', lessonNumberLabel(lesson), color)}  ${lesson.title.padEnd(width)}  ${statusText(statuses[index]!, color)}`);
  }
  const left = listLessons().filter((lesson) => notInTrackLine(lesson, track));
  if (left.length > 0)
    write(paint('dim', `Not in ${trackInfo(track).label}: ${left.map((l) => `${lessonNumberLabel(l)} ${l.title}`).join(', ')} (chatlab lesson show ${left[0]?.number} says why).`, color));
  const unchecked = statuses.filter((status) => status !== 'passed' && status !== 'failed').length;
  if (unchecked > 0)
    write(
      paint(
        'dim',
        `\nstatus from the last \`chatlab lesson check\`; run \`chatlab lesson list --check${track === 'node' ? '' : ` --lang ${track}`}\` to check ${unchecked === lessons.length ? 'them all' : 'again'} now.`,
        color,
      ),
    );
}

const LIST_HELP = `
The status column shows the result of the last \`chatlab lesson check\` of each lesson, as long as
its files have not changed since (results are kept per lesson folder, so two checkouts never
share them, in ~/.cache/chatlab/lesson-checks.json, or in $XDG_CACHE_HOME/chatlab or
$CHATLAB_CACHE_DIR when set). Checking them all takes a while, so it
only happens with --check.`;

/** `chatlab lesson`: list, read, run, check and compare the lessons. */
export function registerLessonCommand(program: Command): void {
  const lesson = program.command('lesson').description('the step-by-step lessons: list, show, run, check and diff them');

  lesson
    .command('list')
    .description('the lessons, numbered, with which ones pass')
    .option('--check', 'check every lesson now (two at a time) before listing')
    .option(...LANG_OPTION, parseLang)
    .addHelpText('after', LIST_HELP)
    .action(async (flags: { check?: boolean; lang?: Track }) => {
      const color = useColor();
      const track = chooseTrack(flags.lang);
      if (flags.check) {
        const lessons = listTrackLessons(track);
        const release = stopVerifierOnSignal('lesson');
        showProgress(0, lessons.length);
        await checkMany(lessons, (done) => showProgress(done, lessons.length));
        release();
      }
      printList(color, track);
    });

  lesson
    .command('show')
    .description("a lesson's README, rendered in the terminal")
    .argument('<lesson>', 'the lesson number (or folder name)', parseLesson)
    .option(...LANG_OPTION, parseLang)
    .action(async (lesson: Lesson, flags: { lang?: Track }) => {
      const track = chooseTrack(flags.lang);
      // A lesson that stays out of the track is still worth reading: its README, after the reason.
      const notInTrack = notInTrackLine(lesson, track);
      if (notInTrack) write(paint('yellow', notInTrack, useColor()));
      const chosen = notInTrack ? lesson : inChosenTrack(lesson, track);
      write(await renderReadme(chosen, { color: useColor(), width: Math.min(process.stdout.columns ?? 80, 100) }));
    });

  lesson
    .command('run')
    .description("a lesson's server behind the inspector, with its scripted users: watch the new step live")
    .argument('<lesson>', 'the lesson number (or folder name)', parseLesson)
    .option('--port <P>', "the lesson server's port", parsePort, 7070)
    .option('--inspect-port <P>', "the inspector's port, where users connect", parsePort, 7071)
    .option('--broken', "run the lesson's deliberately broken server instead (lessons 4, 7 and 14)")
    .option('--fragment <n>', 'inspector fault: cut what goes through into pieces of at most n bytes', parsePositiveInt)
    .option('--no-users', 'do not play the scripted users: connect your own')
    .option('--pace <ms>', 'pause before each scripted action, to follow along (0 = full speed)', millisecondsUpTo(60_000), 700)
    .option('--once', 'stop when the scripted users are done, instead of waiting for Ctrl-C')
    .option(...LANG_OPTION, parseLang)
    .action(async (lesson: Lesson, flags: { port: number; inspectPort: number; broken?: boolean; fragment?: number; users: boolean; pace: number; once?: boolean; lang?: Track }) => {
      const chosen = inChosenTrack(lesson, chooseTrack(flags.lang));
      const session = await startLessonSession(chosen, {
        port: flags.port,
        inspectPort: flags.inspectPort,
        broken: flags.broken === true,
        users: flags.users,
        paceMs: flags.pace,
        once: flags.once === true,
        output: process.stdout,
        color: useColor(),
        ...(flags.fragment ? { fragment: flags.fragment } : {}),
      }).catch(lessonRunFailed);
      // The stop request every long-running command waits for: Ctrl-C, SIGTERM, SIGHUP or npm gone.
      const stopRequest = waitForStopRequest();
      void stopRequest.reason.then(async () => {
        await session.stop();
        process.exit(0);
      });
      stopRequest.onRepeat(() => process.exit(130));
      const outcome = await session.play().catch((error: unknown) => {
        stopRequest.dispose();
        return lessonRunFailed(error);
      });
      if (outcome === 'stopped') {
        stopRequest.dispose();
        return;
      }
      await new Promise(() => {}); // until the stop request
    });

  lesson
    .command('check')
    .description("the verifier on a lesson: its server through the lesson's step, its client, and that its broken version fails")
    .argument('[lesson]', 'the lesson number (or folder name); all lessons when left out', parseLesson)
    .option('--json', 'print the results as JSON')
    .option('--dir <folder>', "check your own code in this folder (as `chatlab lesson init` laid it out) instead of the lesson's")
    .option(...LANG_OPTION, parseLang)
    .action(async (lesson: Lesson | undefined, flags: { json?: boolean; dir?: string; lang?: Track }) => {
      const track = chooseTrack(flags.lang);
      if (flags.dir !== undefined && !lesson) throw new CliError('--dir checks one lesson: say which (chatlab lesson check N --dir FOLDER).');
      const chosen = lesson && inFolder(inChosenTrack(lesson, track), flags.dir);
      const color = !flags.json && useColor();
      const release = stopVerifierOnSignal('lesson');
      let results: LessonCheckResult[];
      if (chosen) {
        const where = `${track === 'node' ? '' : ` in ${trackInfo(track).label}`}${flags.dir === undefined ? '' : `, your code in ${flags.dir}`}`;
        if (!flags.json) write(`checking lesson ${lessonNumberLabel(chosen)} ${chosen.slug}${where} (chatlab verify ${lessonVerifyFlags(chosen)})…`);
        const result = await checkLesson(chosen, {
          // Live: the server's checks, and a client check only if it fails (the broken server is
          // meant to fail: its result is in the summary).
          ...(flags.json
            ? {}
            : {
                onCheck: (part, check) => {
                  if (part === 'server') write(formatCheck(check, color));
                  else if (part === 'client' && check.status === 'failed') write(`${formatCheck(check, color)}  [${chosen.client}]`);
                },
              }),
        });
        // The cache behind `lesson list` is about the lessons' own code, not a learner's copy.
        if (flags.dir === undefined) saveCheckResult(result);
        results = [result];
      } else {
        const lessons = listTrackLessons(track);
        results = await checkMany(lessons, (done) => {
          if (!flags.json) showProgress(done, lessons.length);
        });
      }
      release();
      if (flags.json) {
        write(JSON.stringify(results.length === 1 ? results[0] : results, null, 2));
      } else {
        for (const result of results) write(summarise(chosen ?? (findTrackLesson(result.lesson, track) as Lesson), result, color));
      }
      if (results.some((r) => !r.passed)) process.exitCode = 1;
    });

  lesson
    .command('diff')
    .description('what changed in a lesson since the one before, coloured')
    .argument('<lesson>', 'the lesson number (or folder name)', parseLesson)
    .option('--fix', 'for lessons with a broken version: the diff from it to the fixed server instead')
    .option(...LANG_OPTION, parseLang)
    .action((lesson: Lesson, flags: { fix?: boolean; lang?: Track }) => {
      const chosen = inChosenTrack(lesson, chooseTrack(flags.lang));
      const color = useColor();
      if (flags.fix) {
        const diff = fixDiff(chosen);
        if (diff === null) throw new CliError(`lesson ${chosen.number} has no broken version to compare with.`);
        write(color ? colourDiff(diff) : diff);
        return;
      }
      for (const change of lessonChanges(chosen)) {
        if (change.status === 'unchanged') write(paint('dim', `${change.file}: unchanged since the previous lesson`, color));
        else if (change.status === 'new')
          write(
            `${paint('bold', `${change.file}: new in this lesson`, color)}\n${
              color
                ? colourDiff(
                    change.text
                      .split('\n')
                      .map((l) => `+${l}`)
                      .join('\n'),
                  )
                : change.text
            }\n`,
          );
        else write(`${color ? colourDiff(change.text) : change.text}\n`);
      }
    });

  lesson
    .command('init')
    .description("a starting point for doing a lesson yourself: the previous lesson's code, in a folder of your own")
    .argument('<lesson>', 'the lesson number (or folder name)', parseLesson)
    .argument('[dir]', 'where to lay it out (created if needed)', 'chatlab-lessons')
    .option(...LANG_OPTION, parseLang)
    .addHelpText('after', INIT_HELP)
    .action((lesson: Lesson, dir: string, flags: { lang?: Track }) => {
      const chosen = inChosenTrack(lesson, chooseTrack(flags.lang));
      let result;
      try {
        result = initLesson(chosen, dir);
      } catch (error) {
        if (error instanceof InitTargetExistsError) throw new CliError(`${error.folder} already exists and is not empty: pick another folder (your work there is left as it is).`);
        throw new CliError(describeError(error).split('\n')[0] ?? 'could not lay out the lesson');
      }
      const label = `lesson ${lessonNumberLabel(chosen)} (${trackInfo(trackOf(chosen)).label})`;
      const data = result.data.length > 0 ? `, with the ${result.data.length === 1 ? 'file' : 'files'} they read (${result.data.join(', ')})` : '';
      write(
        result.from
          ? `${label}: ${result.folder} holds lesson ${lessonNumberLabel(result.from)}'s ${result.copied.join(' and ')}${data}; make them do step ${chosen.step}: ${chosen.idea}`
          : `${label}: ${result.folder} is empty: lesson 1 starts from nothing. Write ${chosen.server}: ${chosen.idea}`,
      );
      const lang = trackOf(chosen) === 'node' ? '' : ` --lang ${trackOf(chosen)}`;
      write(`  read the lesson:  npx chatlab lesson show ${chosen.number}${lang}`);
      // The lesson's own check, on the learner's folder: a plain `chatlab verify` cannot reach a
      // TLS server, and the check knows each lesson's flags (--udp, extension groups) and clients.
      write(`  check your work:  npx chatlab lesson check ${chosen.number}${lang} --dir ${result.folder}`);
    });
}

const INIT_HELP = `
Lays out DIR like the lessons/ folder: DIR/accounts.json (the demo accounts) and DIR/NN-slug/ with
the previous lesson's server and client, in the language of --lang (or the one remembered), and
the data files the programs read (lesson 13's demo key and certificate, lesson 12's postcard). Your
task: change them until \`chatlab lesson check N --dir DIR/NN-slug\` (the lesson's own check, on
your folder) passes. An existing, non-empty DIR/NN-slug/ is never overwritten.`;
