import type { TestContext } from 'vitest';
import { type Lesson, LESSON_HOST, type LessonProcess, type LessonServer, loadAccounts, startLessonServer, startNodeProgram, Terminal } from '../src/lessons/runtime/index.ts';
import { expectFrame } from './expect-frame.ts';
import { FrameSocket } from './frame-socket.ts';

/** How long a lesson's raw connection waits for a frame: lesson servers are node processes of their own. */
const LESSON_WAIT_MS = 5_000;

/** A lesson's own client, started by {@link FeatureHarness.client}. */
export interface HarnessClient {
  program: LessonProcess;
  terminal: Terminal;
  /** Types a line into the client's stdin. */
  type(line: string): void;
}

/** What one feature test of a bonus lesson starts; everything is stopped when the test ends. */
export interface FeatureHarness {
  /** Starts the lesson's server on a free port. */
  server(): Promise<LessonServer>;
  /**
   * Logs these users in over raw connections, in order (passwords from accounts.json). Each one
   * already in reads the `presence` of every later one, so the frames a test reads next are its own.
   */
  login<Users extends string[]>(port: number, ...users: Users): Promise<{ [K in keyof Users]: FrameSocket }>;
  /** Runs the lesson's client as `user` against `port`, with `env` added to its environment. */
  client(user: string, port: number, env?: Record<string, string>): HarnessClient;
}

/**
 * The harness the bonus lessons' feature tests share (lessons/NN-slug/lesson.test.ts): a server,
 * raw {@link FrameSocket} connections (over TLS trusting `ca`, when given) and the lesson's client
 * program, each stopped when the test finishes.
 */
export function featureHarness(lesson: Lesson, context: TestContext, options: { ca?: Buffer } = {}): FeatureHarness {
  const accounts = loadAccounts();
  const password = (user: string): string => {
    const found = accounts[user];
    if (found === undefined) throw new Error(`lessons/accounts.json has no user "${user}"`);
    return found;
  };
  const started: { stop(): Promise<void> }[] = [];
  const connections: FrameSocket[] = [];
  context.onTestFinished(async () => {
    for (const connection of connections) connection.destroy();
    await Promise.all(started.map((program) => program.stop()));
  });
  return {
    async server() {
      const running = await startLessonServer(lesson);
      started.push(running);
      return running;
    },
    async login<Users extends string[]>(port: number, ...users: Users) {
      const logged: FrameSocket[] = [];
      for (const user of users) {
        const connection = await FrameSocket.connect(port, { host: LESSON_HOST, label: user, waitMs: LESSON_WAIT_MS, ...(options.ca && { ca: options.ca }) });
        connections.push(connection);
        await expectFrame(connection, { type: 'hello' });
        connection.send({ type: 'login', user, password: password(user) });
        await expectFrame(connection, { type: 'welcome' });
        for (const other of logged) await expectFrame(other, { type: 'presence', user, status: 'online' });
        logged.push(connection);
      }
      return logged as { [K in keyof Users]: FrameSocket };
    },
    client(user, port, env = {}) {
      if (!lesson.client) throw new Error(`lesson ${lesson.slug} has no client`);
      const terminal = new Terminal(user, `node ${lesson.client}`);
      const program = startNodeProgram(lesson, lesson.client, terminal, {
        HOST: LESSON_HOST,
        PORT: String(port),
        CHATLAB_USER: user,
        CHATLAB_PASSWORD: password(user),
        ...env,
      });
      started.push(program);
      return { program, terminal, type: (line) => void program.child.stdin?.write(`${line}\n`) };
    },
  };
}
