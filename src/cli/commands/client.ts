import type { Command } from 'commander';
import { HELLO_TIMEOUT_MS, LineModeError, runLineMode, type ClientTlsOptions } from '../../client/index.ts';
import { DEFAULT_PORT } from '../../protocol/index.ts';
import { TuiError, runTui } from '../../client/tui/index.ts';
import { canRunFullScreen, colorEnabled } from '../../terminal/index.ts';
import { CliError } from '../errors.ts';
import { parsePort, parsePositiveInt, portFromEnv, readFlagFile } from '../options.ts';

interface ClientCommandOptions {
  user?: string;
  password?: string;
  host?: string;
  port?: number;
  register?: boolean;
  timeout: number;
  plain?: boolean;
  reconnect: boolean;
  downloads: string;
  tls?: boolean;
  ca?: string;
}

/**
 * `chatlab client`: chat from the terminal: the full-screen UI when stdin and stdout are a
 * terminal, else (or with --plain) the line mode for scripts. The environment variables of the
 * verifier's client contract (HOST, PORT, CHATLAB_USER, CHATLAB_PASSWORD) are the defaults.
 */
export function registerClientCommand(program: Command): void {
  program
    .command('client')
    .description('chat from the terminal: a full-screen UI in a terminal, plain lines (--plain) for scripts')
    .option('--user <name>', 'user name (default: $CHATLAB_USER)')
    .option('--password <password>', 'password (default: $CHATLAB_PASSWORD)')
    .option('--host <host>', 'server host (default: $HOST, else 127.0.0.1)')
    .option('--port <port>', `server port (default: $PORT, else ${DEFAULT_PORT})`, parsePort)
    .option('--tls', 'connect with TLS, checking the server certificate against the system CAs (or --ca)')
    .option('--ca <file>', "with --tls: trust this PEM certificate (the server's own, or its CA) instead of the system CAs")
    .option('--register', 'create the account first, then log in')
    .option('--plain', 'line mode even in a terminal: one parseable line per event (the default when not a terminal)')
    .option('--downloads <dir>', 'folder where accepted files are written', 'downloads')
    .option('--no-reconnect', 'line mode: exit when the connection is lost instead of reconnecting (the full-screen UI always reconnects)')
    .option('--timeout <ms>', `connect and request timeout in milliseconds (the server's hello must come within ${HELLO_TIMEOUT_MS / 1000} s, or this if shorter)`, parsePositiveInt, 10_000)
    .addHelpText(
      'after',
      `
In the chat: /msg USER TEXT, /join ROOM, /leave [ROOM], /room ROOM, /rooms, /who [ROOM],
/send USER|#ROOM PATH, /accept, /decline, /cancel, /history, /ping, /help, /quit (or Ctrl-D, or
the end of piped input). Line mode prints "[hh:mm:ss] alice: text", "* bob is online",
"! code: message", "~ cat.png 45% (…)"; the formats are in docs/client.md.

Examples:
  chatlab client --user alice --password wonderland
  chatlab client --user erin --password secret-erin --register
  CHATLAB_USER=bob CHATLAB_PASSWORD=builder chatlab client --port 7071 --plain
  printf '/join rust\\nhello\\n/quit\\n' | chatlab client --user alice --password wonderland`,
    )
    .action(async (options: ClientCommandOptions) => {
      const env = process.env;
      const user = options.user ?? nonEmpty(env.CHATLAB_USER);
      if (user === undefined) throw new CliError('no user name: pass --user NAME (or set CHATLAB_USER)');
      const password = options.password ?? env.CHATLAB_PASSWORD;
      if (password === undefined) throw new CliError('no password: pass --password PASSWORD (or set CHATLAB_PASSWORD)');
      const host = options.host ?? nonEmpty(env.HOST) ?? '127.0.0.1';
      const port = options.port ?? portFromEnv(env.PORT, DEFAULT_PORT);
      const stdout = process.stdout;
      const terminal = canRunFullScreen(process.stdin, stdout);
      const common = {
        host,
        port,
        user,
        password,
        register: options.register,
        downloads: options.downloads,
        connectTimeoutMs: options.timeout,
        helloTimeoutMs: Math.min(HELLO_TIMEOUT_MS, options.timeout),
        requestTimeoutMs: options.timeout,
        tls: clientTls(options),
      };
      try {
        if (terminal && !options.plain) {
          process.exitCode = await runTui(common);
          return;
        }
        process.exitCode = await runLineMode({
          ...common,
          input: process.stdin,
          output: stdout,
          color: colorEnabled(stdout, env),
          interactive: terminal,
          reconnect: options.reconnect,
        });
      } catch (error) {
        if (error instanceof LineModeError || error instanceof TuiError) throw new CliError(error.message);
        throw error;
      } finally {
        // An open stdin (a terminal, or a pipe whose writer is still there) must not keep us alive.
        process.stdin.destroy();
      }
    });
}

/** `--tls` and `--ca` as the client library's option; one clear line for an unreadable CA file. */
function clientTls(options: ClientCommandOptions): ClientTlsOptions | undefined {
  if (options.ca !== undefined && !options.tls) throw new CliError('--ca is for TLS connections: add --tls');
  if (!options.tls) return undefined;
  return options.ca === undefined ? {} : { ca: readFlagFile('--ca', options.ca) };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}
