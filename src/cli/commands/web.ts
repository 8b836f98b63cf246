import { connect } from 'node:net';
import type { Command } from 'commander';
import { DEFAULT_PORT } from '../../protocol/index.ts';
import type { Endpoint } from '../../inspector/index.ts';
import { ensureAppBuilt, startWebServer, type WebServer } from '../../web/index.ts';
import { CliError, describeError } from '../errors.ts';
import { parseHostPort, parsePort } from '../options.ts';
import { keepRunningWhenOutputCloses } from '../output-closed.ts';
import { waitForStopRequest } from '../stop-request.ts';

/** Default port of `chatlab web`. */
export const DEFAULT_WEB_PORT = 8080;
/** How long the start-up check waits for the target to accept. */
const PROBE_MS = 1_000;

interface WebOptions {
  target?: Endpoint;
  port: number;
  host: string;
}

/** Registers `chatlab web`. */
export function registerWebCommand(program: Command): void {
  program
    .command('web')
    .description('a web chat for any chatlab/1 server, its frames drawn beside it: bridges each browser tab to the server over TCP (Ctrl-C to stop)')
    .option('--target <host:port>', `the chatlab/1 server to bridge to (default 127.0.0.1:${DEFAULT_PORT})`, parseHostPort)
    .option('--port <port>', `port of the web page, 0 for any free one (default ${DEFAULT_WEB_PORT})`, parsePort, DEFAULT_WEB_PORT)
    .option('--host <host>', 'address to listen on (default 127.0.0.1: this machine only)', '127.0.0.1')
    .addHelpText(
      'after',
      `
Examples:
  chatlab web                                  # the server on 127.0.0.1:7070, the page on http://127.0.0.1:8080/
  chatlab web --target 127.0.0.1:7071          # through the inspector (chatlab inspect --listen 7071)
  chatlab web --port 0                         # any free port`,
    )
    .action((options: WebOptions) => runWeb(options));
}

/** Whether something accepts TCP connections at `target` (a refused or silent target is only worth a note). */
function probe(target: Endpoint): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ host: target.host, port: target.port });
    const done = (problem: string | undefined) => {
      socket.destroy();
      resolve(problem);
    };
    socket.setTimeout(PROBE_MS, () => done('it does not answer'));
    socket.once('connect', () => done(undefined));
    socket.once('error', (error: NodeJS.ErrnoException) => done(error.code === 'ECONNREFUSED' ? 'nothing listens there' : (error.code ?? error.message)));
  });
}

async function runWeb(options: WebOptions): Promise<void> {
  const target = options.target ?? { host: '127.0.0.1', port: DEFAULT_PORT };
  let appDir: string;
  try {
    appDir = await ensureAppBuilt((line) => process.stdout.write(`${line}\n`));
  } catch (error) {
    // Vite's errors run over several lines (a code frame); the first says what and where.
    throw new CliError(`could not build the web app: ${describeError(error).split('\n')[0]}`);
  }
  let web: WebServer;
  try {
    web = await startWebServer({ host: options.host, port: options.port, target, appDir });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new CliError(`address already in use (${options.host}:${options.port}): pick another --port`);
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') throw new CliError(`--host ${options.host}: not an address of this machine`);
    throw new CliError(describeError(error));
  }
  // Listen for Ctrl-C before saying anything: whoever reads the banner may stop it at once.
  const request = waitForStopRequest();
  keepRunningWhenOutputCloses();
  request.onRepeat(() => process.exit(130));
  process.stdout.write(`chatlab web on ${web.url} → bridging to ${target.host}:${target.port} (Ctrl-C to stop)\n`);
  const problem = await probe(target);
  if (problem !== undefined) process.stdout.write(`note: ${target.host}:${target.port}: ${problem} yet; start a server (npx chatlab server) or pass --target\n`);
  await request.reason;
  request.dispose();
  await web.stop();
  process.stdout.write('chatlab web stopped\n');
  setTimeout(() => process.exit(0), 1_000).unref();
}
