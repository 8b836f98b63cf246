import { lessonNumberLabel, listLessons, type Lesson } from './catalogue.ts';
import { joinCommand, LessonPortBusyError, runLesson, type RunLessonOptions, type RunningLesson } from './run.ts';
import { paint } from '../../terminal/index.ts';

/**
 * Something `chatlab lesson run` reports to the learner in one line: a lesson without a broken
 * version, a port that is taken, scripted users that did not see what they expected.
 */
export class LessonRunError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LessonRunError';
  }
}

/** Options of {@link startLessonSession}: those of {@link runLesson}, and when to stop. */
export interface LessonSessionOptions extends RunLessonOptions {
  /** Stop once the scripted users are done, instead of leaving the lesson running for the learner. */
  once?: boolean;
}

/** A lesson started by `chatlab lesson run`, its banner printed. */
export interface LessonSession {
  /** The lesson's server and the inspector in front of it. */
  running: RunningLesson;
  /**
   * Plays the scripted users. Resolves `'stopped'` when the session is over (`once`), or
   * `'open'` when it stays up for the learner's own client (the command to type was printed).
   * Rejects with a {@link LessonRunError}, everything stopped, when the users failed on the
   * working server; on the broken one that is the point, and it is said so instead.
   */
  play(): Promise<'stopped' | 'open'>;
  /** Stops the users, the inspector and the server. */
  stop(): Promise<void>;
}

/** The first line of what a thrown value says. */
function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0] ?? text;
}

/**
 * `chatlab lesson run`, apart from the process around it (signals, exit): checks the choices,
 * starts the lesson behind the inspector and prints the banner; {@link LessonSession.play} then
 * plays the users and says what comes next.
 * @throws LessonRunError for a lesson without a broken version, equal ports, a port in use
 */
export async function startLessonSession(lesson: Lesson, options: LessonSessionOptions): Promise<LessonSession> {
  if (options.broken && !lesson.broken) {
    const numbers = listLessons()
      .filter((l) => l.broken)
      .map((l) => String(l.number));
    const withBroken = numbers.length > 1 ? `${numbers.slice(0, -1).join(', ')} and ${numbers.at(-1)}` : numbers.join('');
    throw new LessonRunError(`lesson ${lesson.number} has no broken version (lessons ${withBroken} do).`);
  }
  if (options.port !== 0 && options.port === options.inspectPort) throw new LessonRunError('--port and --inspect-port must differ: the inspector sits in front of the server.');
  let running: RunningLesson;
  try {
    running = await runLesson(lesson, options);
  } catch (error) {
    if (error instanceof LessonPortBusyError) throw new LessonRunError(`${error.address} is already in use: is another lesson running? Pick another ${error.flag} (0 = any free port).`);
    throw error;
  }
  const { server, inspector } = running;
  const print = (text: string): void => inspector.plain?.print(text);
  const file = options.broken ? lesson.broken?.file : lesson.server;
  print(
    paint(
      'bold',
      `lesson ${lessonNumberLabel(lesson)} · ${lesson.title}: ${file} listening on ${server.host}:${server.port}, inspector on ${inspector.address.host}:${inspector.address.port} (Ctrl-C to stop)`,
      options.color,
    ),
  );
  for (const note of running.notes) print(paint('bold', note, options.color));
  return {
    running,
    stop: () => running.stop(),
    async play() {
      try {
        await running.play();
      } catch (error) {
        const why = firstLine(error).replace(/\. It showed:$/, '') || 'the scripted users failed';
        if (!options.broken) {
          await running.stop();
          throw new LessonRunError(why);
        }
        // The script expects what the working server does: with the broken one, that is the point.
        print(paint('yellow', `As expected, the broken server (${lesson.broken?.bug}) let the script down: ${why.replace(/^lesson [^:]+: /, '')}`, options.color));
      }
      if (options.once) {
        await running.stop();
        return 'stopped';
      }
      print(paint('bold', `${options.users === false ? '' : 'The scripted users are done. '}Your turn: ${joinCommand(lesson, inspector.address.port)} (Ctrl-C here to stop)`, options.color));
      return 'open';
    },
  };
}
