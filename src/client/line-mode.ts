import { createInterface, clearLine, cursorTo } from 'node:readline';
import { setTimeout as delay } from 'node:timers/promises';
import type { Readable, Writable } from 'node:stream';
import { LOBBY } from '../protocol/index.ts';
import type { BackoffPolicy } from './backoff.ts';
import type { ChatClientOptions } from './chat-client.ts';
import { errorParts, runCommand, sendAndGoOn, staleNotice, startFailure, type CommandContext } from './command-runner.ts';
import { parseCommand } from './commands.ts';
import { attachFileTransfers } from './files/index.ts';
import { formatError, formatInfo, formatMessage, formatPresence, formatTransfer, historyEndText, type LineStyle } from './line-format.ts';
import { ChatSession } from './session.ts';
import { TokenBucket } from '../rate-limit/index.ts';

/** Options of {@link runLineMode}. */
export interface LineModeOptions {
  host: string;
  port: number;
  user: string;
  password: string;
  /** Create the account first, then log in. */
  register?: boolean;
  /** Where the user's lines come from (stdin). */
  input: Readable;
  /** Where the chat goes (stdout). */
  output: Writable;
  /** Colour the output (stdout is a terminal). */
  color?: boolean;
  /** Input and output are a terminal: show a prompt and keep it below incoming lines. */
  interactive?: boolean;
  /** Connect (TCP) timeout in ms. */
  connectTimeoutMs?: number;
  /** Wait for the server's `hello` after connecting, in ms. */
  helloTimeoutMs?: number;
  /** Speak TLS (see {@link ChatClientOptions.tls}). */
  tls?: ChatClientOptions['tls'];
  /** Request timeout in ms. */
  requestTimeoutMs?: number;
  /** Reconnect (backoff, re-login with `since`, rejoin) when the connection is lost. Default false. */
  reconnect?: boolean;
  /** Reconnect spacing (tests make it short). */
  backoff?: Partial<BackoffPolicy>;
  /** Where accepted files are written. Default `./downloads`. */
  downloads?: string;
}

/**
 * How fast line mode sends the commands it reads: a little below the reference server's documented
 * rate limit (20 frames per second, bursts of 40; docs/protocol-extensions.md#limits), so that
 * lines piped in all at once are delivered, paced, rather than dropped as `rate_limited`.
 */
export const LINE_MODE_PACE = { perSecond: 18, burst: 30 } as const;

/** Resolves once `bucket` has a token for one more frame, and takes it. */
async function paced(bucket: TokenBucket): Promise<void> {
  while (!bucket.take()) await delay(bucket.msUntilToken);
}

/** The session could not start (connect, register or login failed); the message is one clear line. */
export class LineModeError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LineModeError';
  }
}

/**
 * The plain line-mode chat, for scripts and non-terminals: connects, (registers,) logs in, then
 * sends each input line as a message to the current room and prints what arrives, one parseable
 * line each (`[hh:mm:ss] alice: text`, `[hh:mm:ss] #rust alice: text`, `[hh:mm:ss] alice → you:
 * text`, `* bob is online`, `* alice joined #rust`, `! code: message`, `~ cat.png 45% (…)`). Every
 * slash command of the TUI works (see docs/client.md). `/quit` or the end of the input leaves.
 * Resolves with the exit code once the session is over: 0 after `bye`, 1 when the connection was
 * lost (for good, with `reconnect`).
 * @throws LineModeError when connecting, registering or logging in fails.
 */
export async function runLineMode(options: LineModeOptions): Promise<number> {
  const { input, output, user, password } = options;
  const style: LineStyle = { color: options.color ?? false };
  const interactive = options.interactive ?? false;
  const where = `${options.tls ? 'tls://' : ''}${options.host}:${options.port}`;

  const session = new ChatSession({
    host: options.host,
    port: options.port,
    user,
    password,
    register: options.register,
    connectTimeoutMs: options.connectTimeoutMs,
    helloTimeoutMs: options.helloTimeoutMs,
    tls: options.tls,
    requestTimeoutMs: options.requestTimeoutMs,
    reconnect: options.reconnect ?? false,
    reconnectAfterShutdown: false,
    backoff: options.backoff,
  });
  const files = attachFileTransfers(session, { downloads: options.downloads });

  // Until the session is ready, lines wait in a backlog so the "connected" line comes first.
  let show: ((line: string) => void) | undefined;
  const backlog: string[] = [];
  const print = (line: string) => (show ? show(line) : backlog.push(line));
  let leaving = false;
  let quitFailed = false;
  let connectedAtQuit = true;
  const report = (error: { code: string; message: string }) => {
    // Requests cut short by our own quit are not worth a line.
    if (leaving && (error.code === 'connection_closed' || error.code === 'not_connected')) return;
    print(formatError(error, style));
  };

  session.on('welcome', (welcome, { reconnected }) => print(formatInfo(`${reconnected ? 'reconnected' : 'connected'} to ${where} as ${welcome.user}; online: ${welcome.users.join(', ')}`, style)));
  session.on('message', (message) => print(formatMessage(message, style, { me: session.user, own: message.from === session.user })));
  session.on('presence', (presence) => print(formatPresence(presence, style)));
  session.on('joined', (room, users) => print(formatInfo(`joined #${room}: ${users.join(', ')}`, style)));
  session.on('history_end', (end) => {
    if (end.id !== undefined || end.count === 0) return;
    print(formatInfo(historyEndText(end), style));
  });
  session.on('error', (error) => {
    // Answers to acks or chunks that crossed a transfer's end: its `failed` line said it all.
    if (!files.isLateAnswer(error)) print(formatError(error, style));
  });
  session.on('bye', (bye) => {
    if (!leaving) print(formatInfo(`the server said bye${bye.reason ? ` (${bye.reason})` : ''}`, style));
    leaving = true;
  });
  session.on('connection_closed', (error) => {
    if (error && options.reconnect) print(formatError(error, style));
  });
  session.on('reconnecting', ({ attempt, delayMs }) => print(formatInfo(`disconnected — reconnecting in ${(delayMs / 1000).toFixed(1)} s (attempt ${attempt})`, style)));
  const lastProgress = new Map<string, number>();
  files.on('transfer', (event) => {
    if (event.kind === 'progress') {
      // A line per 10 % step is plenty for a log.
      const step = Math.floor(event.percent / 10);
      if (step === 0 || (lastProgress.get(event.transfer) ?? 0) >= step) return;
      lastProgress.set(event.transfer, step);
    }
    if (event.kind === 'failed' || event.kind === 'received' || event.kind === 'complete') lastProgress.delete(event.transfer);
    const line = formatTransfer(event, style);
    if (line !== null) print(line);
  });

  try {
    await session.start();
    if (interactive) backlog.splice(1, 0, formatInfo('type a message and press Enter; /help for commands, /quit or Ctrl-D to leave', style));
  } catch (error) {
    throw new LineModeError(startFailure(error, session.lastStep, user), { cause: error });
  }
  void files.removeStaleParts().then((removed) => {
    if (removed.length > 0) print(formatInfo(staleNotice(removed, files.downloads), style));
  });

  const lines = createInterface({ input, output: interactive ? output : undefined, terminal: interactive, crlfDelay: Infinity });
  let inputClosed = false;
  show = (line: string) => {
    if (!interactive || inputClosed) {
      output.write(line + '\n');
      return;
    }
    // Keep the prompt, and what the user is typing, below the incoming line.
    cursorTo(output, 0);
    clearLine(output, 0);
    output.write(line + '\n');
    lines.prompt(true);
  };
  for (const line of backlog.splice(0)) show(line);

  const leave = () => {
    if (leaving) return;
    leaving = true;
    connectedAtQuit = session.state === 'connected';
    session.quit().catch((error: unknown) => {
      quitFailed = true;
      report(errorParts(error));
    });
  };

  let room = LOBBY;
  const context: CommandContext = {
    session,
    files,
    get room() {
      return room;
    },
    setRoom: (next) => (room = next),
    info: (text) => print(formatInfo(text, style)),
    error: report,
    quit: leave,
  };

  // Lines run in order: a message is sent at once (its answer may come later), but a command that
  // changes where messages go (/join, /leave, /room) finishes before the next line is read.
  // Each one is paced (LINE_MODE_PACE): a pipe delivers hundreds of lines in one read.
  let queue: Promise<void> = Promise.resolve();
  const pace = new TokenBucket(LINE_MODE_PACE.perSecond, LINE_MODE_PACE.burst);
  const handleLine = (line: string): void => {
    if (leaving) return;
    const command = parseCommand(line);
    if (command.kind === 'empty') return;
    queue = queue.then(async () => {
      if (leaving) return;
      await paced(pace);
      if (leaving) return;
      const running = runCommand(command, context);
      return sendAndGoOn(command) ? undefined : running;
    });
  };
  lines.on('line', (line) => {
    handleLine(line);
    if (interactive && !leaving) lines.prompt();
  });
  // The end of the input (Ctrl-D, or the end of a pipe) means /quit, once the lines before it ran;
  // so does Ctrl-C in a terminal.
  lines.on('close', () => {
    inputClosed = true;
    void queue.then(leave);
  });
  lines.on('SIGINT', () => leave());
  if (interactive) lines.prompt();

  const reason = await session.closed;
  // The transfers the close stopped report it (a receiver's after deleting its partial file).
  await files.stopped();
  lines.close();
  if (interactive) {
    // Leave no stray prompt behind.
    cursorTo(output, 0);
    clearLine(output, 0);
  }
  input.pause();
  if (reason) {
    print(formatError(errorParts(reason), style));
    return 1;
  }
  // The quit promise settles right after the close: let it say whether a bye came.
  await new Promise((resolve) => setImmediate(resolve));
  return quitFailed || !connectedAtQuit ? 1 : 0;
}
