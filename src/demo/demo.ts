import type { Writable } from 'node:stream';
import { startInspector, type EventSink, type Inspector, type SessionModel } from '../inspector/index.ts';
import { ChatServer } from '../server/index.ts';
import { DEMO_ACCOUNTS, followAbort, runScenario, untilAborted } from './scenario.ts';

/** Options of {@link runDemo}. */
export interface DemoOptions {
  /** `tui`: the live terminal UI (stays open until q); `plain`: the text diagram. */
  view: 'tui' | 'plain';
  /** Pause between scenario actions, in ms (0 = as fast as possible). */
  paceMs: number;
  /** Where the plain view writes (default stdout). */
  output?: Writable;
  /** Colours in the plain view (default: when the output is a TTY). */
  color?: boolean;
  /** Also write the session to this JSONL trace. */
  record?: string;
  /**
   * Stops the demo wherever it is (a signal, the terminal closing); `q` / Ctrl-C in the terminal
   * UI do the same. The script, the inspector and the server are stopped, and the result says so.
   */
  signal?: AbortSignal;
  /** More outputs of the inspector (the `--web` page's feed). */
  sinks?: EventSink[];
  /** Called once the inspector runs (the `--web` feed attaches to its model). */
  onInspector?: (inspector: Inspector) => void;
  /** Named in the intro line: where the diagram is also drawn (the `--web` page's URL). */
  webUrl?: string;
}

/** What the demo showed. */
export interface DemoResult {
  model: SessionModel;
  /** All ten steps were seen. */
  allGreen: boolean;
  /** The user (or `signal`) stopped the demo before the script played out. */
  stopped: boolean;
}

/** The accounts live in a throwaway database (in memory, or the demo's own Redis), so a cheap scrypt cost is fine. */
export const DEMO_SCRYPT = { N: 1024, r: 8, p: 1 };

const CLOSING_ROWS = new Set(['fin', 'reset', 'close']);

/** Every connection that began to close (a FIN, a reset) is closed on both sides. */
function closingsDone(model: SessionModel): boolean {
  return model.rows.every((row) => !CLOSING_ROWS.has(row.kind) || row.conn === undefined || model.lifeline(row.conn)?.closedAt !== undefined);
}

/**
 * Waits until the diagram shows all the previous action caused, so the next narration line is
 * printed after it: every event the proxy has seen (a barrier through its thread), and each
 * connection that started closing closed on both sides (its FINs drawn, its lifeline ended).
 */
export async function caughtUp(inspector: Inspector, signal: AbortSignal): Promise<void> {
  await untilAborted(inspector.idle(), signal);
  await inspector.waitFor(closingsDone, 5_000, 'the closing demo connections to close', signal);
}

/** Resolves when `signal` aborts. */
function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => (signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true })));
}

/**
 * `chatlab demo`: starts a reference server on a free port with a throwaway database and the
 * demo accounts, puts the inspector in front of it, plays the scripted chat through the
 * inspector and shows it as a sequence diagram ending with the 10-step checklist.
 */
export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const server = new ChatServer({ port: 0, db: ':memory:', scrypt: DEMO_SCRYPT });
  // One signal for everything the demo waits on: the caller's, and q / Ctrl-C in the UI.
  const { stop, release } = followAbort(options.signal);
  let inspector: Inspector | undefined;
  try {
    for (const { user, password } of DEMO_ACCOUNTS) await server.accounts.add(user, password);
    const target = await server.start();
    inspector = await startInspector({
      target,
      view: options.view,
      output: options.output,
      color: options.color,
      record: options.record,
      title: `chatlab demo: server ${target.host}:${target.port} ← inspector`,
      ...(options.sinks && { sinks: options.sinks }),
    });
    const active = inspector;
    options.onInspector?.(active);
    void active.tui?.quit.then(() => stop.abort(new Error('the demo was quit')));
    const where = `${active.address.host}:${active.address.port}`;
    const intro = `chatlab demo: reference server on ${target.host}:${target.port}, inspector on ${where}; alice, bob and carol chat through it${options.webUrl ? `; web view ${options.webUrl}` : ''}`;
    if (active.plain) active.plain.print(intro);
    active.tui?.setStatus(intro);
    try {
      await runScenario({
        host: active.address.host,
        port: active.address.port,
        paceMs: options.paceMs,
        signal: stop.signal,
        narrate: async (text) => {
          await caughtUp(active, stop.signal);
          if (active.plain) active.plain.print(`── ${text}`);
          active.tui?.setStatus(text);
        },
      });
      // Let the last FINs and closes reach the diagram before summing up.
      await active.waitFor((m) => m.counters.open === 0, 5_000, 'every demo connection to close', stop.signal);
    } catch (error) {
      if (!stop.signal.aborted) throw error;
    }
    if (stop.signal.aborted) return { model: active.model, allGreen: active.model.allStepsSeen, stopped: true };
    await active.stop();
    const allGreen = active.model.allStepsSeen;
    if (active.tui) {
      active.tui.setStatus(allGreen ? 'demo finished: all 10 steps seen. Press q to quit' : 'demo finished, but some steps were not seen. Press q to quit');
      await aborted(stop.signal);
    }
    return { model: active.model, allGreen, stopped: false };
  } finally {
    release();
    // The terminal first: quitting hands it back at once, then the rest closes behind it.
    inspector?.tui?.destroy();
    await inspector?.stop().catch(() => undefined);
    await server.stop();
  }
}
