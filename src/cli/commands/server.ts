import { InvalidArgumentError, type Command } from 'commander';
import { DEFAULT_PORT } from '../../protocol/index.ts';
import { ChatServer, DEFAULT_SERVER_LIMITS, type ServerLimits } from '../../server/index.ts';
import { parsePort, portFromEnv } from '../errors.ts';

/** Options of `chatlab server`, as commander parses them. */
interface ServerCommandOptions {
  host?: string;
  port?: number;
  db: string;
  verbose?: boolean;
  limit: Partial<ServerLimits>;
}

/** Registers `chatlab server`: runs the reference server until Ctrl-C / SIGTERM. */
export function registerServerCommand(program: Command): void {
  program
    .command('server')
    .description('run the chatlab/1 reference server (accounts in SQLite; stop with Ctrl-C)')
    .option('--host <host>', 'address to listen on (default: $HOST or 127.0.0.1)')
    .option('--port <port>', `TCP port, 0 for any free one (default: $PORT or ${DEFAULT_PORT})`, parsePort)
    .option('--db <file>', 'SQLite database for accounts and history, or :memory: for a throwaway one', 'chatlab.db')
    .option('--verbose', 'print one line per connection event (connect, login, logout, disconnect, errors)')
    .option(
      '--limit <name=value>',
      `override a server limit, repeatable (e.g. --limit rateLimitPerSecond=50); names: ${Object.keys(DEFAULT_SERVER_LIMITS).join(', ')}`,
      parseLimit,
      {},
    )
    .action((options: ServerCommandOptions) => runServer(options));
}

async function runServer(options: ServerCommandOptions): Promise<void> {
  const host = options.host ?? (process.env.HOST || '127.0.0.1');
  const port = options.port ?? portFromEnv(process.env.PORT, DEFAULT_PORT);
  // A bad database or a busy port throws here; main.ts prints it as one line (see describeError).
  const server = new ChatServer({ host, port, db: options.db, verbose: options.verbose === true, limits: options.limit });
  const address = await server.start();
  const shown = address.host.includes(':') ? `[${address.host}]` : address.host;
  process.stdout.write(`chatlab server listening on ${shown}:${address.port} (db ${options.db}; Ctrl-C to stop)\n`);
  if (server.accounts.list().length === 0) {
    process.stdout.write(`no accounts yet: add one with "chatlab users add <name> --db ${options.db}", or let clients register\n`);
  }
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    const stop = (name: NodeJS.Signals) => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve(name);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  process.stdout.write(`chatlab server stopping (${signal}): telling ${server.connectionCount} client(s)\n`);
  await server.stop();
  process.stdout.write('chatlab server stopped\n');
}

/** commander parser for one `--limit name=value`, accumulated into one overrides object. */
function parseLimit(text: string, previous: Partial<ServerLimits>): Partial<ServerLimits> {
  const match = /^(\w+)=(.+)$/.exec(text);
  const name = match?.[1] as keyof ServerLimits | undefined;
  if (!match || !name || !Object.hasOwn(DEFAULT_SERVER_LIMITS, name)) {
    throw new InvalidArgumentError(`"${text}" is not name=value with a known limit (${Object.keys(DEFAULT_SERVER_LIMITS).join(', ')}).`);
  }
  const raw = match[2] as string;
  const isFlag = typeof DEFAULT_SERVER_LIMITS[name] === 'boolean';
  const value = isFlag ? (raw === 'true' ? true : raw === 'false' ? false : undefined) : Number(raw);
  if (value === undefined || (typeof value === 'number' && !Number.isFinite(value))) {
    throw new InvalidArgumentError(`limit ${name} takes ${isFlag ? 'true or false' : 'a number'}, not "${raw}".`);
  }
  return { ...previous, [name]: value };
}

