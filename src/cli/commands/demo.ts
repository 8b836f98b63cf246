import type { Command } from 'commander';
import { runDemo } from '../../demo/index.ts';
import { checklistLines, type Inspector } from '../../inspector/index.ts';
import { canRunFullScreen } from '../../terminal/index.ts';
import { CliError, describeError } from '../errors.ts';
import { parsePort } from '../options.ts';
import { describeStopReason, waitForStopRequest } from '../stop-request.ts';
import { startWebView } from '../web-view.ts';

interface DemoCommandOptions {
  cluster?: boolean;
  fast?: boolean;
  plain?: boolean;
  record?: string;
  /** A port, false with --no-web, undefined when not given (the terminal UI then offers one on any free port). */
  web?: number | false;
  webHost: string;
}

/** Pause between actions when a person is watching. */
const WATCH_PACE_MS = 700;

/** Registers `chatlab demo` (what `npm start` runs). */
export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('watch a scripted chat (alice, bob, carol) go through all 10 steps in the inspector; q to quit')
    .option(
      '--cluster',
      "the same chat on two cluster nodes sharing it through a throwaway Redis (Debian's redis-server, from PATH; nothing kept), an inspector in front of each: alice on node A, bob and carol on node B, so every say crosses the nodes. Both diagrams in one terminal, each line labelled [A] or [B]: implies --plain (the terminal UI draws one diagram), no --web. With --record chat.jsonl, one trace per node: chat-a.jsonl and chat-b.jsonl",
    )
    .option('--fast', 'no pauses between actions')
    .option('--plain', 'print the diagram as text instead of the live terminal UI (automatic when stdout is not a terminal)')
    .option('--record <file>', 'also write the session to a JSONL trace (replay it with "chatlab inspect replay")')
    .option('--web <port>', 'draw the diagram in a browser tab served on this port (0 for any free one); the URL is printed. The terminal UI offers one on a free port anyway', parsePort)
    .option('--no-web', 'no browser view (by default the terminal UI serves one on a free port, built when first opened)')
    .option('--web-host <host>', 'address the --web page listens on (default 127.0.0.1: this machine only)', '127.0.0.1')
    .action((options: DemoCommandOptions) => runDemoCommand(options));
}

async function runDemoCommand(options: DemoCommandOptions): Promise<void> {
  if (options.cluster) return runClusterDemoCommand(options);
  const tty = Boolean(process.stdout.isTTY);
  const tui = canRunFullScreen(process.stdin, process.stdout, options.plain);
  const paceMs = options.fast || !tty ? 0 : WATCH_PACE_MS;
  // Ctrl-C in the plain view, a closed terminal or a kill stop the demo as q does in the UI.
  const stopRequest = waitForStopRequest();
  const stop = new AbortController();
  void stopRequest.reason.then((reason) => stop.abort(new Error(`stopped by ${describeStopReason(reason)}`)));
  stopRequest.onRepeat(() => process.exit(130));
  let result;
  let web;
  try {
    // The terminal UI offers the browser view too (its URL is in the intro line); the app is built
    // only if someone opens it. Asked for with --web, it is built before the demo starts.
    if (options.web !== undefined && options.web !== false) web = await startWebView(options.web, options.webHost);
    else if (options.web === undefined && tui) web = await startWebView(0, options.webHost, true);
    const feed = web?.feed;
    const webOptions = web && feed && { sinks: [feed], onInspector: (inspector: Inspector) => feed.attach(inspector.model), webUrl: web.server.url };
    result = await runDemo({ view: tui ? 'tui' : 'plain', paceMs, record: options.record, signal: stop.signal, ...webOptions });
    if (web && !tui && !result.stopped) {
      // The plain demo is over at once: the page stays up to be looked at.
      process.stdout.write(`the web view stays at ${web.server.url}; Ctrl-C to stop\n`);
      await stopRequest.reason;
    }
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(`demo failed: ${describeError(error)}`);
  } finally {
    stopRequest.dispose();
    await web?.server.stop();
  }
  if (tui) process.stdout.write(checklistLines(result.model).join('\n') + '\n');
  if (options.record) process.stdout.write(`trace written to ${options.record}\n`);
  if (result.stopped) {
    const seen = result.model.steps.filter((s) => s.seen).length;
    process.stdout.write(`demo stopped before the end (${seen}/10 steps seen); run it again to watch it all\n`);
  } else if (!result.allGreen) throw new CliError('demo finished without seeing all 10 steps');
  // blessed keeps stdin referenced after the terminal UI closed; a TTY write is synchronous.
  if (tui) process.exit(0);
}

/**
 * `chatlab demo --cluster`: the plain view only, and the cluster code (with ioredis) loaded only
 * here, so the plain demo never pays for it.
 */
async function runClusterDemoCommand(options: DemoCommandOptions): Promise<void> {
  if (options.web !== undefined && options.web !== false) throw new CliError('--web draws one diagram; --cluster draws two (one per node): leave --web out');
  const { runClusterDemo, clusterTraceFiles, RedisNotInstalledError } = await import('../../demo/cluster-demo.ts');
  const paceMs = options.fast || !process.stdout.isTTY ? 0 : WATCH_PACE_MS;
  const stopRequest = waitForStopRequest();
  const stop = new AbortController();
  void stopRequest.reason.then((reason) => stop.abort(new Error(`stopped by ${describeStopReason(reason)}`)));
  // A second Ctrl-C exits at once; redis-server is killed on the way out (see startRedisServer).
  stopRequest.onRepeat(() => process.exit(130));
  let result;
  try {
    result = await runClusterDemo({ paceMs, record: options.record, signal: stop.signal });
  } catch (error) {
    if (error instanceof RedisNotInstalledError) throw new CliError(`demo --cluster: ${error.message}`);
    throw new CliError(`demo --cluster failed: ${describeError(error)}`);
  } finally {
    stopRequest.dispose();
  }
  if (options.record) {
    const traces = clusterTraceFiles(options.record);
    process.stdout.write(`traces written to ${traces.A} (node A) and ${traces.B} (node B)\n`);
  }
  if (result.stopped) {
    const seen = result.nodes.map(({ name, model }) => `node ${name} ${model.steps.filter((s) => s.seen).length}/10`).join(', ');
    process.stdout.write(`demo stopped before the end (steps seen: ${seen}); run it again to watch it all\n`);
  } else if (!result.allGreen) throw new CliError('demo --cluster finished without seeing all 10 steps on both nodes and a say crossing each way');
}
