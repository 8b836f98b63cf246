import { InvalidArgumentError, type Command } from 'commander';
import { DEFAULT_PORT } from '../../protocol/index.ts';
import { ChatServer, DEFAULT_SERVER_LIMITS, MEMORY_DATABASE, TlsCredentialsError, type ServerLimits, type TlsCredentials } from '../../server/index.ts';
import { DEFAULT_LEASE_MS, DEFAULT_SPOOL_FILE } from '../../server/index.ts';
import { CliError } from '../errors.ts';
import { parsePort, parsePositiveInt, portFromEnv, readFlagFile } from '../options.ts';
import { keepRunningWhenOutputCloses } from '../output-closed.ts';
import { describeStopReason, waitForStopRequest } from '../stop-request.ts';

/** Options of `chatlab server`, as commander parses them. */
interface ServerCommandOptions {
  host?: string;
  port?: number;
  db: string;
  verbose?: boolean;
  limit: Partial<ServerLimits>;
  backlog?: number;
  tlsCert?: string;
  tlsKey?: string;
  redis?: string;
  nodeId?: string;
  leaseMs?: number;
  spool?: string;
}

/** Registers `chatlab server`: runs the reference server until Ctrl-C / SIGTERM / SIGHUP. */
export function registerServerCommand(program: Command): void {
  program
    .command('server')
    .description('run the chatlab/1 reference server (accounts in SQLite; stop with Ctrl-C, SIGTERM or SIGHUP)')
    .option('--host <host>', 'address to listen on (default: $HOST or 127.0.0.1)')
    .option('--port <port>', `TCP port, 0 for any free one (default: $PORT or ${DEFAULT_PORT})`, parsePort)
    .option('--db <file>', 'SQLite database for accounts and history, or :memory: for a throwaway one (with --redis: unused, accounts and history live in Redis; :memory: unless given)', 'chatlab.db')
    .option('--verbose', 'print one line per connection event (connect, login, logout, disconnect, errors)')
    .option('--tls-cert <file>', 'speak TLS with this PEM certificate (chain); needs --tls-key')
    .option('--tls-key <file>', 'the PEM private key of --tls-cert')
    .option('--redis <url>', 'run as one node of a cluster sharing presence, relay and accounts through Redis, e.g. redis://127.0.0.1:6379 (default: $CHATLAB_REDIS; none: one process on its own)')
    .option('--node-id <name>', "with --redis: this node's name in logs and in the cluster (default: hostname:pid)")
    .option('--lease-ms <ms>', `with --redis: a node silent this long is declared dead and its users go offline elsewhere (default ${DEFAULT_LEASE_MS})`, parsePositiveInt)
    .option(
      '--spool <file>',
      'with --redis: the SQLite file where messages said while Redis is away wait to be stored (created at the first one; the default is in the directory the node is started in, shared by the nodes started there, so a node started again there stores what a killed one left)',
      DEFAULT_SPOOL_FILE,
    )
    .option('--backlog <n>', 'connections the kernel may queue before they are accepted (default: the OS maximum, net.core.somaxconn)', parsePositiveInt)
    .option('--limit <name=value>', `override a server limit, repeatable (e.g. --limit rateLimitPerSecond=50); names: ${Object.keys(DEFAULT_SERVER_LIMITS).join(', ')}`, parseLimit, {})
    .action((options: ServerCommandOptions, command: Command) => {
      // A cluster keeps accounts and history in Redis: a node's SQLite database is not used, so
      // unless --db is given it is a throwaway one in memory (no file left beside each node).
      const clustered = options.redis !== undefined || Boolean(process.env.CHATLAB_REDIS);
      if (clustered && command.getOptionValueSource('db') === 'default') options.db = MEMORY_DATABASE;
      return runServer({ ...options, spoolGiven: command.getOptionValueSource('spool') !== 'default' });
    });
}

async function runServer(options: ServerCommandOptions & { spoolGiven: boolean }): Promise<void> {
  const host = options.host ?? (process.env.HOST || '127.0.0.1');
  const port = options.port ?? portFromEnv(process.env.PORT, DEFAULT_PORT);
  const tls = readTlsCredentials(options);
  const redis = options.redis ?? (process.env.CHATLAB_REDIS || undefined);
  if (redis === undefined && (options.nodeId !== undefined || options.leaseMs !== undefined)) {
    throw new CliError('--node-id and --lease-ms need --redis (or CHATLAB_REDIS): they configure a cluster node');
  }
  if (redis === undefined && options.spoolGiven) throw new CliError('--spool needs --redis (or CHATLAB_REDIS): only a cluster node defers messages');
  // A bad database, a busy port or an unreachable Redis throws here; main.ts prints it as one line.
  const server = redis === undefined ? createServer(options, { host, port, tls }) : await createClusterNode(options, redis, { host, port, tls });
  // Listening for a stop starts before the listening line, so a supervisor that signals as soon
  // as it sees that line is heard.
  const stop = waitForStopRequest();
  keepRunningWhenOutputCloses();
  const address = await server.start();
  const shown = address.host.includes(':') ? `[${address.host}]` : address.host;
  // A cluster node uses no database of its own: its line names the spool, the one file it may write.
  const where = redis === undefined ? `db ${options.db}` : `cluster node; spool ${options.spool}`;
  process.stdout.write(`chatlab server listening on ${tls ? 'tls://' : ''}${shown}:${address.port} (${where}; Ctrl-C to stop)\n`);
  if (redis !== undefined) process.stdout.write(`cluster node through ${redis}: presence, relay, accounts and history are shared\n`);
  else if (server.accounts.list().length === 0) process.stdout.write(`${noAccountsAdvice(options.db)}\n`);
  const reason = await stop.reason;
  stop.onRepeat((signal) => {
    process.stderr.write(`chatlab server: ${signal} again: stopping now, without waiting for clients to close\n`);
    process.exit(1);
  });
  process.stdout.write(`chatlab server stopping (${describeStopReason(reason)}): telling ${server.connectionCount} client(s)\n`);
  await server.stop();
  stop.dispose();
  process.stdout.write('chatlab server stopped\n');
}

/**
 * What to do about an empty accounts database. `users add` runs in a process of its own, so it
 * can only add to a file: for ':memory:' (a database inside this process) it would not work.
 */
function noAccountsAdvice(db: string): string {
  if (db === MEMORY_DATABASE)
    return 'no accounts yet: the in-memory database starts empty, so clients register their own (for fixed accounts, run with --db <file> after "chatlab users add <name> --db <file>")';
  return `no accounts yet: add one with "chatlab users add <name> --db ${db}", or let clients register`;
}

function createServer(options: ServerCommandOptions, where: { host: string; port: number; tls: TlsCredentials | undefined }): ChatServer {
  try {
    return new ChatServer({ ...where, db: options.db, verbose: options.verbose === true, limits: options.limit, backlog: options.backlog });
  } catch (error) {
    if (!(error instanceof TlsCredentialsError)) throw error;
    const flags = { cert: `--tls-cert ${options.tlsCert}`, key: `--tls-key ${options.tlsKey}`, pair: `--tls-cert ${options.tlsCert} --tls-key ${options.tlsKey}` };
    throw new CliError(`${flags[error.part]}: ${error.message}`);
  }
}

/**
 * A cluster node: connects to Redis first (the module, and ioredis, load only here), so an
 * unreachable Redis is one clear line and a non-zero exit before anything listens.
 */
async function createClusterNode(options: ServerCommandOptions, redis: string, where: { host: string; port: number; tls: TlsCredentials | undefined }): Promise<ChatServer> {
  const { createClusterServer, BackplaneUnavailableError, SpoolError } = await import('../../server/cluster/index.ts');
  try {
    const node = await createClusterServer({
      ...where,
      db: options.db,
      verbose: options.verbose === true,
      limits: options.limit,
      backlog: options.backlog,
      redis: { url: redis, nodeId: options.nodeId, leaseMs: options.leaseMs },
      spool: options.spool,
    });
    return node.server;
  } catch (error) {
    if (error instanceof BackplaneUnavailableError) throw new CliError(`--redis: ${error.message}`);
    if (error instanceof SpoolError) throw new CliError(`--spool: ${error.message}`);
    throw error;
  }
}

/** Reads `--tls-cert` and `--tls-key` (both or neither), one clear line for each way it fails. */
function readTlsCredentials(options: ServerCommandOptions): TlsCredentials | undefined {
  const { tlsCert, tlsKey } = options;
  if (tlsCert === undefined && tlsKey === undefined) return undefined;
  if (tlsCert === undefined) throw new CliError('--tls-key needs --tls-cert (the certificate that goes with the key)');
  if (tlsKey === undefined) throw new CliError('--tls-cert needs --tls-key (the private key of the certificate)');
  return { cert: readFlagFile('--tls-cert', tlsCert), key: readFlagFile('--tls-key', tlsKey) };
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
