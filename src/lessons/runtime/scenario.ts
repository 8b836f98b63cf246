import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadAccounts, type Lesson } from './catalogue.ts';
import { LESSON_HOST, startNodeProgram, type LessonProcess } from './processes.ts';
import { Terminal } from './terminal.ts';
import { commandLine } from './tracks.ts';
import { NOMINAL_INSPECTOR_PORT, NOMINAL_SERVER_PORT, normalisePort, type PortRename } from './ports.ts';
import { within } from './within.ts';

/**
 * One step of a lesson's scripted run (lessons/NN-slug/scenario.json). Each names the terminal
 * it acts on; `server` is the lesson server's terminal (a cluster lesson's nodes: `server A`,
 * `server B`).
 * - `start`: run the lesson's client as that user (password from accounts.json unless given),
 *   connecting to the first node or, with `via`, to the node of that name;
 * - `nc`: open a raw TCP connection, as `nc 127.0.0.1 <port>` would (for lessons without a
 *   client, or to type frames by hand), also with an optional `via`;
 * - `type`: a line typed into that terminal (a client's stdin, or sent as is by `nc`);
 * - `expect`: wait until that terminal prints exactly this line (after the lines already expected);
 * - `eof`: Ctrl-D, the end of a client's input;
 * - `kill`: Ctrl-C, the program ends at once (for `nc`, the connection closes);
 * - `exit`: wait until that client exits, with this code;
 * - `closed`: wait until the server closes that `nc` connection;
 * - `crash`: a cluster lesson's node dies at once (SIGKILL: no goodbye to anyone, as in a crash
 *   or a pulled plug), e.g. `{ "crash": "server B" }`.
 */
export type ScenarioStep =
  | { start: string; password?: string; via?: string }
  | { nc: string; via?: string }
  | { type: string; text: string }
  | { expect: string; line: string }
  | { eof: string }
  | { kill: string }
  | { exit: string; code: number }
  | { closed: string }
  | { crash: string };

/** A lesson's scripted run. */
export interface Scenario {
  /** What the run shows, in a sentence. */
  description: string;
  steps: ScenarioStep[];
}

/** Reads lessons/NN-slug/scenario.json. */
export function loadScenario(lesson: Lesson): Scenario {
  const file = join(lesson.dir, 'scenario.json');
  if (!existsSync(file)) throw new Error(`lesson ${lesson.slug} has no scenario.json`);
  return JSON.parse(readFileSync(file, 'utf8')) as Scenario;
}

/** A user's side of the run: a client program, or a raw connection. */
interface Actor {
  terminal: Terminal;
  type(text: string): void;
  eof(): void;
  kill(): Promise<void>;
  exit(code: number, timeoutMs: number): Promise<void>;
  closed(timeoutMs: number): Promise<void>;
  stop(): Promise<void>;
}

function clientActor(program: LessonProcess): Actor {
  const { terminal, child } = program;
  return {
    terminal,
    type(text) {
      terminal.typed(text);
      child.stdin?.write(`${text}\n`);
    },
    eof() {
      terminal.typed('^D');
      child.stdin?.end();
    },
    async kill() {
      terminal.typed('^C');
      child.kill('SIGINT');
      await program.exited;
    },
    async exit(code, timeoutMs) {
      const actual = await within(program.exited, timeoutMs, `${terminal.name}'s client did not exit`);
      if (actual !== code) throw new Error(`${terminal.name}'s client exited with ${actual}, not ${code}`);
    },
    closed() {
      return Promise.reject(new Error(`"closed" is for nc connections; ${terminal.name} runs a client (use "exit")`));
    },
    stop: program.stop,
  };
}

async function ncActor(name: string, port: number, timeoutMs: number): Promise<Actor> {
  const terminal = new Terminal(name, `nc 127.0.0.1 ${port}`);
  const socket = net.connect(port, LESSON_HOST);
  socket.setEncoding('utf8');
  socket.on('data', (text: string) => terminal.write(text));
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  socket.on('error', () => {});
  void closed.then(() => terminal.end());
  await within(
    new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    }),
    timeoutMs,
    `${name} could not connect to 127.0.0.1:${port}`,
  );
  return {
    terminal,
    type(text) {
      terminal.typed(text);
      socket.write(`${text}\n`);
    },
    eof() {
      terminal.typed('^D');
      socket.end();
    },
    async kill() {
      terminal.typed('^C');
      socket.end();
      await within(closed, timeoutMs, `${name}'s connection did not close`);
    },
    exit() {
      return Promise.reject(new Error(`"exit" is for clients; ${name} is an nc connection (use "closed")`));
    },
    closed: (ms) => within(closed, ms, `the server did not close ${name}'s connection`),
    async stop() {
      socket.destroy();
      await closed;
    },
  };
}

/** Options of {@link runScenario}. */
export interface RunScenarioOptions {
  lesson: Lesson;
  scenario?: Scenario;
  /** Where the users connect: the lesson server, or an inspector in front of it. */
  port: number;
  /** The lesson server's terminal, for `expect: server` steps. */
  server: Terminal;
  /** The port the lesson server listens on (defaults to `port`). */
  serverPort?: number;
  /** A cluster lesson's other nodes (the first is `server`/`port`), each reached through its own inspector. */
  nodes?: ScenarioNode[];
  /** Further ports the scenario writes as their README values (a cluster's Redis on 6379). */
  more?: PortRename[];
  /** Bound on each wait (expect, exit, closed). */
  timeoutMs?: number;
  /** Called with every terminal as it opens (for live display). */
  onTerminal?: (terminal: Terminal) => void;
  /**
   * A pause before each action (start, nc, type, eof, kill), so a person watching can follow
   * (`chatlab lesson run`). Waits are never timed: they wait for the line or the event.
   */
  paceMs?: number;
}

/** A further node of a cluster lesson, as a scenario sees it. */
export interface ScenarioNode {
  /** Its name, for `via` (`B`). */
  name: string;
  /** Its server's terminal (`server B`), for `expect` steps. */
  terminal: Terminal;
  /** Where users reach it (its inspector). */
  port: number;
  /** The port its server listens on. */
  serverPort: number;
  /** The ports the scenario writes for it (7072, 7073). */
  nominal: { server: number; inspector: number };
  /** Kills its server at once (SIGKILL) and waits until it is gone. */
  crash(): Promise<void>;
}

/**
 * The default bound of each wait of a lesson's scripted run: 5 s, and 10 s for a UDP lesson,
 * whose server notices a killed client only once it has been silent long enough (5 s in lesson 15),
 * or a cluster lesson, whose nodes call a dead node's users offline once its lease expired.
 */
export function scenarioWaitMs(lesson: Lesson): number {
  return lesson.transport === 'udp' || lesson.cluster ? 10_000 : 5_000;
}

/** The outcome of a scripted run: every terminal, in the order they opened (the server first). */
export interface ScenarioRun {
  terminals: Terminal[];
  /** Ends every client and connection still open (the server is the caller's). */
  stop(): Promise<void>;
}

/**
 * Plays a lesson's scenario against a running server: starts the scripted users, types their
 * lines and waits for each expected line, so the run is the same every time. Rejects with a
 * clear message (and stops every user it started) when an expectation is not met.
 */
export async function runScenario(options: RunScenarioOptions): Promise<ScenarioRun> {
  const { lesson, port, server } = options;
  const scenario = options.scenario ?? loadScenario(lesson);
  const timeoutMs = options.timeoutMs ?? scenarioWaitMs(lesson);
  const accounts = loadAccounts();
  const actors = new Map<string, Actor>();
  const nodes = options.nodes ?? [];
  const terminals: Terminal[] = [server, ...nodes.map((node) => node.terminal)];
  // Scenarios are written with the README's ports: turn every one into the run's real port.
  const renames: PortRename[] = [
    ...nodes.flatMap((node) => [
      { actual: node.serverPort, nominal: node.nominal.server },
      { actual: node.port, nominal: node.nominal.inspector },
    ]),
    ...(options.more ?? []),
  ];
  const real = (line: string): string => renames.reduce((text, { actual, nominal }) => normalisePort(text, nominal, actual), line);
  // Where a `start` or `nc` step connects: the first node, or the one its `via` names.
  const portVia = (via: string | undefined): number => {
    if (via === undefined) return port;
    const node = nodes.find((n) => n.name === via);
    if (!node) throw new Error(`scenario of ${lesson.slug}: there is no node "${via}" to connect via`);
    return node.port;
  };
  const serverTerminal = (name: string): Terminal | undefined => (name === 'server' || name === server.name ? server : nodes.find((node) => node.terminal.name === name)?.terminal);
  // Clients that save files (lesson 12) save them in a fresh folder per run, removed at the end:
  // a second run must not find the first run's files (it would save "postcard (1).txt").
  let downloads: string | undefined;
  const stop = async (): Promise<void> => {
    await Promise.all([...actors.values()].map((actor) => actor.stop()));
    if (downloads) rmSync(downloads, { recursive: true, force: true });
  };
  const actor = (name: string): Actor => {
    const found = actors.get(name);
    if (!found) throw new Error(`scenario of ${lesson.slug}: "${name}" is used before it was started`);
    return found;
  };
  const open = (name: string, created: Actor): void => {
    if (actors.has(name) || serverTerminal(name)) throw new Error(`scenario of ${lesson.slug}: "${name}" is started twice`);
    actors.set(name, created);
    terminals.push(created.terminal);
    options.onTerminal?.(created.terminal);
  };

  const pause = (): Promise<void> => (options.paceMs ? new Promise((resolve) => setTimeout(resolve, options.paceMs)) : Promise.resolve());
  try {
    for (const step of scenario.steps) {
      const acts = 'start' in step || 'nc' in step || 'type' in step || 'eof' in step || 'kill' in step || 'crash' in step;
      if (acts) await pause();
      if ('start' in step) {
        if (!lesson.client) throw new Error(`scenario of ${lesson.slug}: lesson has no client to start`);
        const user = step.start;
        const port = portVia(step.via);
        const password = step.password ?? accounts[user] ?? '';
        // Show the variables a learner would set: the credentials only once the client reads them.
        const code = readFileSync(join(lesson.dir, lesson.client), 'utf8');
        const logsIn = code.includes('CHATLAB_USER');
        const credentials = logsIn ? `CHATLAB_USER=${user} CHATLAB_PASSWORD=${password} ` : '';
        const terminal = new Terminal(user, `${credentials}PORT=${port} ${commandLine(lesson.client)}`);
        if (code.includes('CHATLAB_DOWNLOADS')) downloads ??= mkdtempSync(join(tmpdir(), 'chatlab-lesson-downloads-'));
        const program = startNodeProgram(lesson, lesson.client, terminal, {
          HOST: LESSON_HOST,
          PORT: String(port),
          CHATLAB_USER: user,
          CHATLAB_PASSWORD: password,
          ...(downloads ? { CHATLAB_DOWNLOADS: join(downloads, user) } : {}),
        });
        open(user, clientActor(program));
      } else if ('nc' in step) {
        open(step.nc, await ncActor(step.nc, portVia(step.via), timeoutMs));
      } else if ('type' in step) {
        actor(step.type).type(step.text);
      } else if ('expect' in step) {
        // Scenarios are written with the README's ports (server 7070, users 7071): use the real ones.
        const serverSide = serverTerminal(step.expect);
        if (serverSide) {
          await serverSide.expect(real(normalisePort(step.line, NOMINAL_SERVER_PORT, options.serverPort ?? port)), timeoutMs);
        } else {
          await actor(step.expect).terminal.expect(real(normalisePort(step.line, NOMINAL_INSPECTOR_PORT, port)), timeoutMs);
        }
      } else if ('eof' in step) {
        actor(step.eof).eof();
      } else if ('kill' in step) {
        await actor(step.kill).kill();
      } else if ('exit' in step) {
        await actor(step.exit).exit(step.code, timeoutMs);
      } else if ('closed' in step) {
        await actor(step.closed).closed(timeoutMs);
      } else if ('crash' in step) {
        const node = nodes.find((n) => n.terminal.name === step.crash);
        if (!node) throw new Error(`scenario of ${lesson.slug}: "${step.crash}" is not a node that can crash`);
        node.terminal.typed('(kill -9)');
        await node.crash();
      } else {
        throw new Error(`scenario of ${lesson.slug}: unknown step ${JSON.stringify(step)}`);
      }
    }
  } catch (error) {
    await stop();
    throw new Error(`lesson ${lesson.slug}, scripted run: ${(error as Error).message}`);
  }
  return { terminals, stop };
}
