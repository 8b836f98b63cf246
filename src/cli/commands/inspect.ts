import { writeFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { HELLO_TIMEOUT_MS } from '../../client/index.ts';
import { DEFAULT_PORT } from '../../protocol/index.ts';
import {
  checklistLines,
  countersLine,
  DEFAULT_EXPORT_DIR,
  describeTypeFilter,
  EXPORT_FORMATS,
  exportModel,
  FRAMING_MODES,
  hasRandomFaults,
  loadTuiView,
  modelFromEvents,
  parseTypeFilter,
  PlainView,
  readTrace,
  replayEvents,
  SessionModel,
  startInspector,
  TraceError,
  TypeFilterError,
  withFraming,
  type Endpoint,
  type ExportFormat,
  type FaultOptions,
  type FramingMode,
  type Inspector,
  type TypeFilter,
} from '../../inspector/index.ts';
import { canRunFullScreen } from '../../terminal/index.ts';
import { CliError, describeError } from '../errors.ts';
import { millisecondsUpTo, parseHostPort, parseListen, parsePort, parsePositiveInt } from '../options.ts';
import { keepRunningWhenOutputCloses } from '../output-closed.ts';
import { waitForStopRequest } from '../stop-request.ts';
import { startWebView } from '../web-view.ts';

/** Default port the inspector listens on: the one after the server's. */
export const DEFAULT_INSPECT_PORT = DEFAULT_PORT + 1;

interface InspectOptions {
  listen?: { host?: string; port: number };
  target?: Endpoint;
  plain?: boolean;
  record?: string;
  framing?: FramingMode;
  showReads?: boolean;
  fragment?: number;
  delay?: number;
  dropAfter?: number;
  udp?: boolean;
  loss?: number;
  reorder?: boolean;
  duplicate?: number;
  seed?: number;
  showKeepalive?: boolean;
  type?: TypeFilter;
  exportDir: string;
  web?: number;
  webHost: string;
  webOnly?: boolean;
}

interface ReplayOptions {
  plain?: boolean;
  showKeepalive?: boolean;
  type?: TypeFilter;
  speed?: number;
  framing?: FramingMode;
  showReads?: boolean;
  exportDir: string;
}

interface ExportOptions {
  format?: ExportFormat;
  output?: string;
  framing?: FramingMode;
  showReads?: boolean;
}

function parseSpeed(value: string): number {
  const speed = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || !Number.isFinite(speed)) throw new InvalidArgumentError(`"${value}" is not a speed (1 = as recorded, 2 = twice as fast, 0 = all at once).`);
  return speed;
}

/** `--type say,message` shows only those types; `--type -ping` (or `!ping`) hides one. */
function parseType(value: string): TypeFilter {
  try {
    return parseTypeFilter(value);
  } catch (error) {
    if (error instanceof TypeFilterError) throw new InvalidArgumentError(`${error.message}.`);
    throw error;
  }
}

const SHOW_KEEPALIVE_HELP = 'draw keep-alive ping/pong rows (hidden and counted by default; the a key toggles them)';
const TYPE_HELP = 'show only these types (say,message), or hide some (-ping,-pong or !ping)';

/** `--loss 0.2`: a probability, from 0 to 1. */
function parseProbability(value: string): number {
  const p = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || !(p >= 0 && p <= 1)) throw new InvalidArgumentError(`"${value}" is not a probability: give a number from 0 to 1 (0.2 = one datagram in five).`);
  return p;
}

function parseSeed(value: string): number {
  const seed = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(seed) || seed > 0xffffffff) throw new InvalidArgumentError(`"${value}" is not a seed: give a whole number from 0 to 4294967295.`);
  return seed;
}

/** Registers `chatlab inspect` and its `replay` and `export` subcommands. */
export function registerInspectCommand(program: Command): void {
  const inspect = program
    .command('inspect')
    .description('run the inspector: a transparent TCP proxy (or, with --udp, a UDP tap) that draws every frame as a live sequence diagram (q or Ctrl-C to stop)')
    .option('--listen <port>', `port (or host:port) clients connect to, 0 for any free one (default ${DEFAULT_INSPECT_PORT})`, parseListen)
    .option('--target <host:port>', `the server to forward to (default 127.0.0.1:${DEFAULT_PORT})`, parseHostPort)
    .option('--plain', 'print the diagram as text lines instead of the live terminal UI (automatic when stdout is not a terminal)')
    .option('--record <file>', 'write every event (time, connection, direction, bytes, decoded frame) to a JSONL trace')
    .addOption(new Option('--framing <mode>', 'how to cut bytes into frames (default: auto)').choices([...FRAMING_MODES]))
    .option('--show-reads', 'draw each TCP read against the frames it holds (half a frame, or three)')
    .option('--show-keepalive', SHOW_KEEPALIVE_HELP)
    .option('--type <types>', TYPE_HELP, parseType)
    .option('--fragment <n>', 'fault: re-chunk forwarded bytes into pieces of at most n bytes', parsePositiveInt)
    .option('--delay <ms>', 'fault: hold every forwarded piece ms milliseconds', millisecondsUpTo())
    .option('--drop-after <n>', 'fault: reset a connection after n bytes went through it', parsePositiveInt)
    .option('--udp', 'tap UDP instead of TCP: one frame per datagram, one lifeline per client address (lesson 15)')
    .option('--loss <p>', 'fault (--udp): drop each datagram with probability p (0–1); drawn as lost ✗ arrows', parseProbability)
    .option('--reorder', 'fault (--udp): hold back some datagrams and send each after the next one')
    .option('--duplicate <p>', 'fault (--udp): send each datagram twice with probability p (0–1)', parseProbability)
    .option('--seed <n>', 'fault (--udp): the seed of the random faults, to replay the same losses (default: a random one, printed)', parseSeed)
    .option('--export-dir <dir>', `where the terminal UI's e key writes the diagram (.mmd, .svg, .txt); created if missing`, DEFAULT_EXPORT_DIR)
    .option('--web <port>', 'also draw the live diagram in a browser tab served on this port (0 for any free one); the URL is printed', parsePort)
    .option('--web-host <host>', 'address the --web page listens on (default 127.0.0.1: this machine only)', '127.0.0.1')
    .option('--web-only', 'with --web: draw only in the browser (no terminal UI, no text diagram)')
    .action((options: InspectOptions) => runInspect(options));

  inspect
    .command('replay')
    .description('play a recorded trace back in the same views')
    .argument('<trace>', 'a trace file written with --record')
    .option('--plain', 'print the diagram as text instead of the live terminal UI')
    .option('--speed <x>', 'playback speed: 1 = as recorded, 0 = all at once (default 1 in the UI, 0 with --plain)', parseSpeed)
    .addOption(new Option('--framing <mode>', 'decode with this framing instead of the recorded one').choices([...FRAMING_MODES]))
    .option('--show-reads', 'draw each TCP read against the frames it holds')
    .option('--show-keepalive', SHOW_KEEPALIVE_HELP)
    .option('--type <types>', TYPE_HELP, parseType)
    .option('--export-dir <dir>', `where the terminal UI's e key writes the diagram (.mmd, .svg, .txt); created if missing (default: ${DEFAULT_EXPORT_DIR})`)
    // `inspect replay f --show-reads`: commander hands options the parent also knows to the
    // parent, so read them merged.
    .action((trace: string, _options: ReplayOptions, command: Command) => runReplay(trace, command.optsWithGlobals<ReplayOptions>()));

  inspect
    .command('export')
    .description('write a recorded trace as a sequence diagram: Mermaid, self-contained SVG, or text')
    .argument('<trace>', 'a trace file written with --record')
    .addOption(new Option('--format <format>', 'output format (default: from the -o extension, else text)').choices([...EXPORT_FORMATS]))
    .option('-o, --output <file>', 'write to this file instead of stdout (.md wraps Mermaid in a fence)')
    .addOption(new Option('--framing <mode>', 'decode with this framing instead of the recorded one').choices([...FRAMING_MODES]))
    .option('--show-reads', 'include a row per TCP read')
    .action((trace: string, _options: ExportOptions, command: Command) => runExport(trace, command.optsWithGlobals<ExportOptions>()));
}

function useTui(plain: boolean | undefined): boolean {
  return canRunFullScreen(process.stdin, process.stdout, plain);
}

/**
 * Stops on the first SIGINT/SIGTERM/SIGHUP (or npm going away: see ../stop-request.ts); a
 * second signal while stopping exits at once.
 */
function waitForSignal(command: string): { promise: Promise<void>; dispose: () => void } {
  const request = waitForStopRequest();
  keepRunningWhenOutputCloses();
  request.onRepeat((signal) => {
    process.stderr.write(`chatlab ${command}: ${signal} again: exiting now\n`);
    process.exit(130);
  });
  return { promise: request.reason.then(() => undefined), dispose: () => request.dispose() };
}

async function runInspect(options: InspectOptions): Promise<void> {
  const framing = options.framing ?? 'auto';
  const listen = { host: options.listen?.host ?? '127.0.0.1', port: options.listen?.port ?? DEFAULT_INSPECT_PORT };
  const target = options.target ?? { host: '127.0.0.1', port: DEFAULT_PORT };
  const udpFaults = options.loss !== undefined || options.reorder === true || options.duplicate !== undefined || options.seed !== undefined;
  if (udpFaults && !options.udp)
    throw new CliError('--loss, --reorder, --duplicate and --seed are UDP faults: add --udp (a TCP stream is never lost or reordered; try --fragment, --delay, --drop-after).');
  if (options.udp && (options.fragment !== undefined || options.dropAfter !== undefined || options.showReads))
    throw new CliError('--fragment, --drop-after and --show-reads are about TCP byte streams: a datagram arrives whole or not at all (try --loss, --reorder, --duplicate, --delay).');
  const faults: FaultOptions = {
    ...(options.fragment !== undefined && { fragment: options.fragment }),
    ...(options.delay !== undefined && { delayMs: options.delay }),
    ...(options.dropAfter !== undefined && { dropAfter: options.dropAfter }),
    ...(options.loss !== undefined && { loss: options.loss }),
    ...(options.reorder === true && { reorder: true }),
    ...(options.duplicate !== undefined && { duplicate: options.duplicate }),
  };
  // A random run can be replayed: its seed is in the banner (and the trace).
  if (hasRandomFaults(faults)) faults.seed = options.seed ?? Math.floor(Math.random() * 0x1_0000_0000);
  if (options.webOnly && options.web === undefined) throw new CliError('--web-only needs --web PORT (the page it draws in).');
  const tui = !options.webOnly && useTui(options.plain);
  const faultText = Object.keys(faults).length > 0 ? `; faults ${JSON.stringify(faults)}` : '';
  const filterText = `${options.type ? `; ${describeTypeFilter(options.type)}` : ''}${options.showKeepalive ? '; keep-alive shown' : ''}`;
  const details = `framing ${framing}${faultText}${filterText}${options.record ? `; recording ${options.record}` : ''}`;
  const web = options.web === undefined ? undefined : await startWebView(options.web, options.webHost);
  let inspector: Inspector;
  try {
    inspector = await startInspector({
      listen,
      target,
      ...(options.udp ? { transport: 'udp' as const } : {}),
      framing,
      showReads: options.showReads === true,
      faults,
      helloTimeoutMs: HELLO_TIMEOUT_MS,
      record: options.record,
      view: options.webOnly ? 'none' : tui ? 'tui' : 'plain',
      showKeepAlive: options.showKeepalive === true,
      typeFilter: options.type,
      exportDir: options.exportDir,
      ...(web && { sinks: [web.feed] }),
    });
  } catch (error) {
    await web?.server.stop();
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new CliError(`address already in use (${listen.host}:${listen.port}): pick another --listen port`);
    if (options.record && (code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR')) throw new CliError(`--record ${options.record}: cannot write (${code})`);
    throw new CliError(describeError(error));
  }
  web?.feed.attach(inspector.model);
  const webText = web ? `; web view ${web.server.url}` : '';
  const where = `${inspector.address.host}:${inspector.address.port}`;
  const banner = `chatlab inspect${options.udp ? ' (UDP)' : ''} listening on ${where} → forwarding to ${target.host}:${target.port} (${details}${webText}`;
  const signal = waitForSignal('inspect');
  if (inspector.tui) {
    inspector.tui.setTitle(`chatlab inspect${options.udp ? ' (UDP)' : ''} listening on ${where} → ${target.host}:${target.port} (q to quit)`);
    inspector.tui.setStatus(`${details}${webText}`);
    await Promise.race([inspector.tui.quit, signal.promise]);
    // The terminal first: quitting hands it back at once, then the proxy closes behind it.
    inspector.tui.destroy();
    await inspector.stop();
    await web?.server.stop();
    const undrawn = inspector.undrawn ? [`stopped before the diagram caught up: ${inspector.undrawn.events} events (${inspector.undrawn.bytes} bytes) not drawn`] : [];
    process.stdout.write(`${banner})\n${[...checklistLines(inspector.model), countersLine(inspector.model), ...undrawn].join('\n')}\n`);
    printExported(inspector.tui.exported);
  } else {
    if (inspector.plain) inspector.plain.print(`${banner}; Ctrl-C to stop)`);
    else process.stdout.write(`${banner}; Ctrl-C to stop)\n`);
    await signal.promise;
    await inspector.stop();
    await web?.server.stop();
  }
  if (options.record) process.stdout.write(`trace written to ${options.record}\n`);
  signal.dispose();
  // blessed leaves stdin referenced after the terminal UI closed; a TTY write is synchronous.
  if (tui) process.exit(0);
  // Everything is closed, but an output pipe nobody reads may still hold writes: never hang on it.
  setTimeout(() => process.exit(0), 1_000).unref();
}

async function loadTrace(path: string) {
  try {
    return await readTrace(path);
  } catch (error) {
    if (error instanceof TraceError) throw new CliError(error.message);
    throw error;
  }
}

async function runReplay(path: string, options: ReplayOptions): Promise<void> {
  const events = await loadTrace(path);
  const model = new SessionModel({ showReads: options.showReads === true, framing: options.framing });
  const replayed = events.map((event) => withFraming(event, options.framing));
  if (!useTui(options.plain)) {
    const view = new PlainView(model, process.stdout, { showKeepAlive: options.showKeepalive === true, typeFilter: options.type });
    view.print(`chatlab inspect replay ${path}: ${events.length} events`);
    await replayEvents(replayed, model, { speed: options.speed ?? 0, onRows: (rows) => view.addRows(rows) });
    view.printSummary();
    await view.flushed();
    return;
  }
  const createTuiView = await loadTuiView();
  const tui = createTuiView(model, { title: `chatlab inspect replay ${path}`, clock: 'model', showKeepAlive: options.showKeepalive === true, typeFilter: options.type, exportDir: options.exportDir });
  const abort = new AbortController();
  const signal = waitForSignal('inspect replay');
  void tui.quit.then(() => abort.abort());
  void signal.promise.then(() => abort.abort());
  tui.setStatus('replaying… (q to quit)');
  await replayEvents(replayed, model, { speed: options.speed ?? 1, signal: abort.signal, onRows: (rows) => tui.addRows(rows) });
  if (!abort.signal.aborted) tui.setStatus('replay finished: press q to quit');
  await Promise.race([tui.quit, signal.promise]);
  signal.dispose();
  tui.destroy();
  printExported(tui.exported);
  process.exit(0);
}

/** The files the terminal UI's `e` key wrote, one line each, once the terminal is restored. */
function printExported(files: readonly string[]): void {
  for (const file of files) process.stdout.write(`exported ${file}\n`);
}

function formatFromPath(path: string | undefined): ExportFormat {
  const ext = path ? extname(path).toLowerCase() : '';
  if (ext === '.svg') return 'svg';
  if (ext === '.mmd' || ext === '.mermaid' || ext === '.md') return 'mermaid';
  return 'text';
}

async function runExport(path: string, options: ExportOptions): Promise<void> {
  const events = await loadTrace(path);
  const model = modelFromEvents(events, { framing: options.framing, showReads: options.showReads === true });
  const format = options.format ?? formatFromPath(options.output);
  const fenced = format === 'mermaid' && options.output !== undefined && extname(options.output).toLowerCase() === '.md';
  const text = exportModel(model, format, { fenced });
  if (!options.output) {
    process.stdout.write(text);
    return;
  }
  try {
    await writeFile(options.output, text);
  } catch (error) {
    throw new CliError(`-o ${options.output}: cannot write (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  process.stdout.write(`wrote ${format} diagram of ${model.rows.length} rows to ${options.output}\n`);
}
