import { createInterface, clearLine, cursorTo } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { ChatClient } from './chat-client.ts';
import { ClientError, ProtocolError } from './errors.ts';
import { formatError, formatInfo, formatMessage, formatPresence, type LineStyle } from './line-format.ts';

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
  /** Connect (TCP + hello) timeout in ms. */
  connectTimeoutMs?: number;
  /** Request timeout in ms. */
  requestTimeoutMs?: number;
}

/** The session could not start (connect, register or login failed); the message is one clear line. */
export class LineModeError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LineModeError';
  }
}

/** The help the `/help` command prints. */
export const LINE_MODE_HELP = [
  'type a line and press Enter to send it; start it with // to send a line beginning with /',
  '/who    who is online',
  '/ping   round trip to the server',
  '/quit   leave the chat (also Ctrl-D, or the end of the input)',
  '/help   this help',
];

const errorParts = (error: unknown): { code: string; message: string } =>
  error instanceof ProtocolError || error instanceof ClientError
    ? error
    : { code: 'error', message: error instanceof Error ? error.message : String(error) };

/**
 * The plain line-mode chat: connects, (registers,) logs in, then sends each input line as a
 * message and prints what arrives (`[hh:mm:ss] alice: text`, `* bob is online`, `! code: message`).
 * `/quit` or the end of the input leaves. Resolves with the exit code once the connection is
 * closed: 0 after `bye`, 1 when the connection was lost.
 * @throws LineModeError when connecting, registering or logging in fails.
 */
export async function runLineMode(options: LineModeOptions): Promise<number> {
  const { input, output, user, password } = options;
  const style: LineStyle = { color: options.color ?? false };
  const interactive = options.interactive ?? false;

  let client: ChatClient;
  try {
    client = await ChatClient.connect({
      host: options.host,
      port: options.port,
      connectTimeoutMs: options.connectTimeoutMs,
      requestTimeoutMs: options.requestTimeoutMs,
    });
  } catch (error) {
    throw new LineModeError(errorParts(error).message, { cause: error });
  }
  const closed = new Promise<ClientError | null>((resolve) => client.once('close', resolve));
  // Listen from the start: a message may arrive in the same read as the welcome. Until the
  // session is ready, lines wait in a backlog so the "connected" line comes first.
  let show: ((line: string) => void) | undefined;
  const backlog: string[] = [];
  const print = (line: string) => (show ? show(line) : backlog.push(line));
  let leaving = false;
  const report = (error: unknown) => {
    // Requests cut short by our own quit are not worth a line.
    if (leaving && error instanceof ClientError && (error.code === 'connection_closed' || error.code === 'not_connected')) return;
    print(formatError(errorParts(error), style));
  };
  client.on('message', (message) => print(formatMessage(message, style)));
  client.on('presence', (presence) => print(formatPresence(presence, style)));
  client.on('error', (error) => print(formatError(error, style)));
  client.on('bye', (bye) => {
    if (!leaving) print(formatInfo(`the server said bye${bye.reason ? ` (${bye.reason})` : ''}`, style));
    leaving = true;
  });

  let step = 'register';
  try {
    if (options.register) await client.register(user, password);
    step = 'login';
    const welcome = await client.login(user, password);
    output.write(formatInfo(`connected to ${client.host}:${client.port} as ${welcome.user}; online: ${welcome.users.join(', ')}`, style) + '\n');
    if (interactive) output.write(formatInfo('type a message and press Enter; /help for commands, /quit or Ctrl-D to leave', style) + '\n');
  } catch (error) {
    client.destroy();
    const { code, message } = errorParts(error);
    throw new LineModeError(`${step === 'login' ? 'login' : 'registration'} as ${user} failed (${code}): ${message}`, { cause: error });
  }

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

  let quitFailed = false;
  const leave = () => {
    if (leaving) return;
    leaving = true;
    client.quit().catch((error: unknown) => {
      quitFailed = true;
      report(error);
    });
  };

  lines.on('line', (line) => {
    handleLine(line);
    if (interactive && !leaving) lines.prompt();
  });
  const handleLine = (line: string): void => {
    if (leaving || line.trim() === '') return;
    const command = line.trim();
    if (command.startsWith('/') && !command.startsWith('//')) {
      const name = command.split(/\s+/)[0] as string;
      switch (name) {
        case '/quit':
        case '/exit':
          return leave();
        case '/who':
          client.who().then((users) => print(formatInfo(`online: ${users.join(', ')}`, style)), report);
          return;
        case '/ping':
          client.ping().then((ms) => print(formatInfo(`pong in ${ms.toFixed(1)} ms`, style)), report);
          return;
        case '/help':
          for (const help of LINE_MODE_HELP) print(formatInfo(help, style));
          return;
        default:
          print(formatError({ code: 'unknown_command', message: `${name} is not a command; /help lists them` }, style));
          return;
      }
    }
    client.say(line.startsWith('//') ? line.slice(1) : line).catch(report);
  };
  // The end of the input (Ctrl-D, or the end of a pipe) means /quit; so does Ctrl-C in a terminal.
  lines.on('close', () => {
    inputClosed = true;
    leave();
  });
  lines.on('SIGINT', () => leave());
  if (interactive) lines.prompt();

  const reason = await closed;
  lines.close();
  if (interactive) {
    // Leave no stray prompt behind.
    cursorTo(output, 0);
    clearLine(output, 0);
  }
  input.pause();
  if (reason) {
    print(formatError(reason, style));
    return 1;
  }
  // The quit promise settles right after the close: let it say whether a bye came.
  await new Promise((resolve) => setImmediate(resolve));
  return quitFailed ? 1 : 0;
}
