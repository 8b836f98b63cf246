import blessed from 'blessed';
import { LOBBY, type RoomCount } from '../../protocol/index.ts';
import type { BackoffPolicy } from '../backoff.ts';
import type { ChatClientOptions } from '../chat-client.ts';
import { errorParts, runCommand, sendAndGoOn, staleNotice, startFailure, type CommandContext } from '../command-runner.ts';
import { parseCommand } from '../commands.ts';
import { attachFileTransfers } from '../files/index.ts';
import { ChatSession } from '../session.ts';
import { formatError } from '../line-format.ts';
import { expandShortcodes } from './emoji.ts';
import { InputLine } from './input-line.ts';
import { safe, tuiError, tuiHistoryEnd, tuiInfo, tuiMessage, tuiPresence, tuiTransfer } from './tui-format.ts';
import { patchBlessedWidths } from '../../terminal/index.ts';

/** Options of {@link runTui}. */
export interface TuiOptions {
  host: string;
  port: number;
  user: string;
  password: string;
  /** Create the account first, then log in. */
  register?: boolean;
  /** Where accepted files are written. Default `./downloads`. */
  downloads?: string;
  connectTimeoutMs?: number;
  /** Wait for the server's `hello` after connecting, in ms. */
  helloTimeoutMs?: number;
  /** Speak TLS (see {@link ChatClientOptions.tls}). */
  tls?: ChatClientOptions['tls'];
  requestTimeoutMs?: number;
  /** How often the status line's latency is measured (ping), in ms. Default 5,000. */
  pingIntervalMs?: number;
  /** Reconnect spacing. */
  backoff?: Partial<BackoffPolicy>;
  /** The terminal (default stdin/stdout). */
  input?: NodeJS.ReadStream;
  output?: NodeJS.WriteStream;
}

/**
 * How long Ctrl-C waits for the server's `bye` before dropping the connection: leaving is polite
 * when the server answers, and never waits on one that does not (hung, or behind a slow link).
 */
export const CTRL_C_BYE_GRACE_MS = 250;

/** The chat could not start (connect, register or login failed); the message is one clear line. */
export class TuiError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TuiError';
  }
}

const SIDEBAR_WIDTH = 24;

/**
 * The terminal chat UI (blessed): a scrolling message pane, the online users and the rooms on the
 * right, a status line (who, where, room, ping latency, transfers, connection state) and an input
 * line with history. Every slash command of the line mode works the same way. Reconnects (with
 * backoff) when the connection is lost or the server restarts. Resolves with the exit code: 0
 * after /quit, 1 when the session ended with an error.
 * @throws TuiError when connecting, registering or logging in fails (before the screen opens).
 */
export async function runTui(options: TuiOptions): Promise<number> {
  patchBlessedWidths();
  const session = new ChatSession({
    host: options.host,
    port: options.port,
    user: options.user,
    password: options.password,
    register: options.register,
    connectTimeoutMs: options.connectTimeoutMs,
    helloTimeoutMs: options.helloTimeoutMs,
    tls: options.tls,
    requestTimeoutMs: options.requestTimeoutMs,
    reconnect: true,
    reconnectAfterShutdown: true,
    backoff: options.backoff,
  });
  const files = attachFileTransfers(session, { downloads: options.downloads });
  const where = `${options.tls ? 'tls://' : ''}${options.host}:${options.port}`;

  // ---------------------------------------------------------------- state
  const online = new Set<string>();
  let roomCounts: RoomCount[] = [];
  let room = LOBBY;
  let latency: number | undefined;
  let connection: { state: 'connected' } | { state: 'reconnecting'; attempt: number; at: number } | { state: 'closed' } = { state: 'connected' };

  // Until the screen exists (the welcome and history arrive during start), lines wait here.
  const early: string[] = [];
  let log = (line: string) => void early.push(line);
  let refresh = () => {};

  session.on('welcome', (welcome, { reconnected }) => {
    online.clear();
    for (const user of welcome.users) online.add(user);
    connection = { state: 'connected' };
    log(tuiInfo(`${reconnected ? 'reconnected' : 'connected'} to ${where} as ${welcome.user}`));
    refresh();
  });
  session.on('message', (message) => log(tuiMessage(message, session.user)));
  session.on('presence', (presence) => {
    log(tuiPresence(presence));
    if (presence.room === undefined) {
      if (presence.status === 'online') online.add(presence.user);
      else online.delete(presence.user);
    }
    // A user going offline leaves every room too, so room sizes change on global presence as well.
    void refreshRooms();
    refresh();
  });
  session.on('joined', (joined, users) => {
    log(tuiInfo(`joined #${joined}: ${users.join(', ')}`));
    void refreshRooms();
  });
  session.on('history_end', (end) => {
    if (end.id === undefined && end.count > 0) log(tuiHistoryEnd(end));
  });
  session.on('error', (error) => {
    // Answers to acks or chunks that crossed a transfer's end: its `failed` line said it all.
    if (!files.isLateAnswer(error)) log(tuiError(error));
  });
  session.on('bye', (bye) => log(tuiInfo(`the server said bye${bye.reason ? ` (${bye.reason})` : ''}`)));
  session.on('connection_closed', (error) => {
    if (error) log(tuiError(error));
  });
  session.on('reconnecting', ({ attempt, delayMs }) => {
    connection = { state: 'reconnecting', attempt, at: Date.now() + delayMs };
    latency = undefined;
    log(`{red-fg}* disconnected — reconnecting in ${Math.max(1, Math.round(delayMs / 1000))} s… (attempt ${attempt}){/red-fg}`);
    refresh();
  });
  session.on('reconnected', () => void refreshRooms());
  files.on('transfer', (event) => {
    if (event.kind !== 'progress') {
      const line = tuiTransfer(event);
      if (line !== null) log(line);
    }
    refresh();
  });

  async function refreshRooms(): Promise<void> {
    if (!session.supports('rooms')) return refresh();
    try {
      roomCounts = await session.listRooms();
    } catch {
      // Not connected, or an old server without rooms: the joined rooms still show.
    }
    refresh();
  }

  try {
    await session.start();
  } catch (error) {
    throw new TuiError(startFailure(error, session.lastStep, options.user), { cause: error });
  }
  void files.removeStaleParts().then((removed) => {
    if (removed.length > 0) log(tuiInfo(staleNotice(removed, files.downloads)));
  });

  // ---------------------------------------------------------------- screen
  const screen = blessed.screen({
    smartCSR: true,
    fullUnicode: true,
    forceUnicode: true,
    autoPadding: true,
    warnings: false,
    title: `chatlab — ${options.user}`,
    ...(options.input && { input: options.input }),
    ...(options.output && { output: options.output }),
  });
  const messages = blessed.log({
    parent: screen,
    top: 0,
    left: 0,
    border: 'line',
    tags: true,
    scrollable: true,
    alwaysScroll: true,
    scrollback: 5_000,
    mouse: true,
    scrollbar: { ch: ' ', style: { bg: 'grey' } },
    style: { border: { fg: 'grey' }, label: { fg: 'white', bold: true } },
  });
  const usersBox = blessed.box({ parent: screen, right: 0, top: 0, border: 'line', tags: true, style: { border: { fg: 'grey' } } });
  const roomsBox = blessed.box({ parent: screen, right: 0, border: 'line', tags: true, style: { border: { fg: 'grey' } } });
  const status = blessed.box({ parent: screen, left: 0, height: 1, tags: true, style: { bg: 'blue', fg: 'white' } });
  const inputBox = blessed.box({ parent: screen, left: 0, height: 1, tags: true });
  const input = new InputLine();

  const layout = () => {
    const width = screen.width as number;
    const height = screen.height as number;
    const side = width >= 60 ? SIDEBAR_WIDTH : 0;
    const paneHeight = Math.max(3, height - 2);
    messages.width = width - side;
    messages.height = paneHeight;
    usersBox.width = side;
    roomsBox.width = side;
    usersBox.height = Math.ceil(paneHeight / 2);
    roomsBox.top = Math.ceil(paneHeight / 2);
    roomsBox.height = paneHeight - Math.ceil(paneHeight / 2);
    if (side === 0) {
      usersBox.hide();
      roomsBox.hide();
    } else {
      usersBox.show();
      roomsBox.show();
    }
    status.top = height - 2;
    status.width = width;
    inputBox.top = height - 1;
    inputBox.width = width;
  };

  const renderSidebar = () => {
    const me = session.user;
    const users = [...online].sort();
    usersBox.setLabel(` online (${users.length}) `);
    usersBox.setContent(users.map((user) => (user === me ? ` {green-fg}{bold}${safe(user)}{/bold} (you){/green-fg}` : ` ${safe(user)}`)).join('\n'));
    const joined = session.rooms;
    const names = new Set([...roomCounts.map((r) => r.room), ...joined]);
    const counts = new Map(roomCounts.map((r) => [r.room, r.users]));
    roomsBox.setLabel(` rooms (${names.size}) `);
    roomsBox.setContent(
      [...names]
        .sort()
        .map((name) => {
          const mark = name === room ? '▸' : joined.includes(name) ? '●' : ' ';
          const count = counts.get(name);
          const line = `${mark} #${safe(name)}${count === undefined ? '' : ` ${count}`}`;
          return name === room ? `{bold}${line}{/bold}` : joined.includes(name) ? line : `{grey-fg}${line}{/grey-fg}`;
        })
        .join('\n'),
    );
  };

  const renderStatus = () => {
    const parts: string[] = [];
    if (connection.state === 'reconnecting') {
      const seconds = Math.max(0, Math.ceil((connection.at - Date.now()) / 1000));
      status.style.bg = 'red';
      parts.push(seconds > 0 ? `disconnected — reconnecting in ${seconds} s… (attempt ${connection.attempt})` : `disconnected — reconnecting… (attempt ${connection.attempt})`);
    } else if (connection.state === 'closed') {
      status.style.bg = 'red';
      parts.push('disconnected');
    } else {
      status.style.bg = 'blue';
      parts.push(`${safe(session.user)} @ ${safe(where)}`, `#${safe(room)}`, latency === undefined ? 'ping …' : `ping ${latency < 10 ? latency.toFixed(1) : Math.round(latency)} ms`);
    }
    for (const transfer of files.active) {
      if (transfer.state === 'offering' || transfer.state === 'offered') continue;
      parts.push(`${transfer.direction === 'send' ? '↑' : '↓'} ${safe(transfer.name)} ${transfer.percent}%`);
    }
    const offers = files.pendingOffers.length;
    if (offers > 0) parts.push(`${offers} file offer${offers === 1 ? '' : 's'}: /accept or /decline`);
    status.setContent(` ${parts.join(' │ ')}`);
  };

  const renderInput = () => {
    const width = (screen.width as number) - 2;
    const view = input.view(width);
    inputBox.setContent(`{bold}>{/bold} ${blessed.escape(view.before)}{inverse}${blessed.escape(view.atCursor)}{/inverse}${blessed.escape(view.after)}`);
  };

  let leaving = false;
  let screenDestroyed = false;
  let renderQueued = false;
  refresh = () => {
    if (renderQueued) return;
    renderQueued = true;
    setImmediate(() => {
      renderQueued = false;
      if (screenDestroyed) return;
      renderSidebar();
      renderStatus();
      renderInput();
      screen.render();
    });
  };
  log = (line: string) => {
    messages.log(line);
    refresh();
  };
  messages.setLabel(` #${room} `);
  layout();
  for (const line of early.splice(0)) messages.log(line);
  log(tuiInfo('type a message and press Enter; /help lists the commands, /quit (or Ctrl-C) leaves'));
  screen.on('resize', () => {
    layout();
    refresh();
  });

  // ---------------------------------------------------------------- commands
  const quit = () => {
    if (leaving) return;
    leaving = true;
    log(tuiInfo('leaving…'));
    session.quit().catch(() => {});
  };
  const context: CommandContext = {
    session,
    files,
    get room() {
      return room;
    },
    setRoom: (next) => {
      room = next;
      messages.setLabel(` #${next} `);
      refresh();
    },
    info: (text) => log(tuiInfo(text)),
    error: (error) => log(tuiError(error)),
    own: (message) => log(tuiMessage(message, session.user)),
    transform: expandShortcodes,
    roomsChanged: () => void refreshRooms(),
    quit,
  };
  let queue: Promise<void> = Promise.resolve();
  const submit = (line: string) => {
    const command = parseCommand(line);
    if (command.kind === 'empty') return;
    queue = queue.then(() => {
      const running = runCommand(command, context);
      return sendAndGoOn(command) ? undefined : running;
    });
  };

  screen.on('keypress', (ch: string | undefined, key: { full?: string; name?: string; ctrl?: boolean; meta?: boolean } | undefined) => {
    const name = key?.full ?? key?.name ?? '';
    switch (name) {
      case 'C-c':
        if (leaving) session.destroy();
        quit();
        setTimeout(() => session.destroy(), CTRL_C_BYE_GRACE_MS).unref();
        return;
      case 'C-d':
        if (input.value === '') quit();
        else input.deleteForward();
        break;
      case 'enter':
      case 'linefeed':
        submit(input.submit());
        break;
      case 'return':
        return; // blessed reports Enter twice: as "return", then as "enter".
      case 'backspace':
      case 'C-h':
        input.backspace();
        break;
      case 'delete':
        input.deleteForward();
        break;
      case 'left':
      case 'C-b':
        input.left();
        break;
      case 'right':
      case 'C-f':
        input.right();
        break;
      case 'home':
      case 'C-a':
        input.home();
        break;
      case 'end':
      case 'C-e':
        input.end();
        break;
      case 'C-u':
        input.killToStart();
        break;
      case 'C-k':
        input.killToEnd();
        break;
      case 'C-w':
        input.deleteWord();
        break;
      case 'up':
        input.previous();
        break;
      case 'down':
        input.next();
        break;
      case 'pageup':
        messages.scroll(-Math.max(1, (messages.height as number) - 3));
        break;
      case 'pagedown':
        messages.scroll(Math.max(1, (messages.height as number) - 3));
        break;
      default:
        if (ch === undefined || key?.ctrl || key?.meta || ch === '\x1b') return;
        if (ch === '\t') return;
        // eslint-disable-next-line no-control-regex
        if (/^[\u0000-\u001f\u007f]$/.test(ch)) return;
        input.insert(ch);
    }
    refresh();
  });

  // ---------------------------------------------------------------- timers
  const ping = async () => {
    // Keepalive only where the server has ping: a core server would answer each one with an error.
    if (session.state !== 'connected' || !session.supports('ping')) return;
    try {
      latency = await session.ping();
    } catch {
      latency = undefined;
    }
    refresh();
  };
  const pingTimer = setInterval(() => void ping(), options.pingIntervalMs ?? 5_000);
  // The countdown of "reconnecting in N s" moves every second.
  const clockTimer = setInterval(() => {
    if (connection.state === 'reconnecting') refresh();
  }, 1_000);
  void ping();
  void refreshRooms();
  refresh();

  const reason = await session.closed;
  connection = { state: 'closed' };
  clearInterval(pingTimer);
  clearInterval(clockTimer);
  screenDestroyed = true;
  screen.destroy();
  const out = options.output ?? process.stdout;
  if (reason) {
    out.write(`${formatError(errorParts(reason), { color: false })}\n`);
    return 1;
  }
  out.write(`* left the chat at ${where}\n`);
  return 0;
}
