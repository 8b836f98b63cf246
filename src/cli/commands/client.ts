import type { Command } from 'commander';
import { DEFAULT_PORT } from '../../protocol/index.ts';
import { LineModeError, runLineMode } from '../../client/line-mode.ts';
import { CliError, parsePort, parsePositiveInt } from '../errors.ts';

interface ClientCommandOptions {
  user?: string;
  password?: string;
  host?: string;
  port?: number;
  register?: boolean;
  timeout: number;
}

/**
 * `chatlab client`: chat from the terminal in plain line mode. The environment variables of the
 * verifier's client contract (HOST, PORT, CHATLAB_USER, CHATLAB_PASSWORD) are the defaults.
 */
export function registerClientCommand(program: Command): void {
  program
    .command('client')
    .description('chat from the terminal in plain line mode: every line you type is a message')
    .option('--user <name>', 'user name (default: $CHATLAB_USER)')
    .option('--password <password>', 'password (default: $CHATLAB_PASSWORD)')
    .option('--host <host>', 'server host (default: $HOST, else 127.0.0.1)')
    .option('--port <port>', `server port (default: $PORT, else ${DEFAULT_PORT})`, parsePort)
    .option('--register', 'create the account first, then log in')
    .option('--timeout <ms>', 'connect and request timeout in milliseconds', parsePositiveInt, 10_000)
    .addHelpText(
      'after',
      `
In the chat: /who lists who is online, /ping measures the round trip, /help shows the commands,
/quit (or Ctrl-D, or the end of piped input) leaves. Messages print as "[hh:mm:ss] alice: text".

Examples:
  chatlab client --user alice --password wonderland
  CHATLAB_USER=bob CHATLAB_PASSWORD=builder chatlab client --port 7071
  printf 'hello\\n/quit\\n' | chatlab client --user alice --password wonderland`,
    )
    .action(async (options: ClientCommandOptions) => {
      const env = process.env;
      const user = options.user ?? nonEmpty(env.CHATLAB_USER);
      if (user === undefined) throw new CliError('no user name: pass --user NAME (or set CHATLAB_USER)');
      const password = options.password ?? env.CHATLAB_PASSWORD;
      if (password === undefined) throw new CliError('no password: pass --password PASSWORD (or set CHATLAB_PASSWORD)');
      const host = options.host ?? nonEmpty(env.HOST) ?? '127.0.0.1';
      const port = options.port ?? portFromEnv(env.PORT);
      const stdout = process.stdout;
      try {
        process.exitCode = await runLineMode({
          host,
          port,
          user,
          password,
          register: options.register,
          input: process.stdin,
          output: stdout,
          color: stdout.isTTY === true && !env.NO_COLOR,
          interactive: stdout.isTTY === true && process.stdin.isTTY === true,
          connectTimeoutMs: options.timeout,
          requestTimeoutMs: options.timeout,
        });
      } catch (error) {
        if (error instanceof LineModeError) throw new CliError(error.message);
        throw error;
      } finally {
        // An open stdin (a terminal, or a pipe whose writer is still there) must not keep us alive.
        process.stdin.destroy();
      }
    });
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

function portFromEnv(value: string | undefined): number {
  if (value === undefined || value === '') return DEFAULT_PORT;
  try {
    return parsePort(value);
  } catch {
    throw new CliError(`PORT=${value} is not a TCP port (a whole number from 0 to 65535); pass --port`);
  }
}
