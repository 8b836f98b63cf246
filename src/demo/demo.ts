import type { Writable } from 'node:stream';
import { startInspector, type Inspector } from '../inspector/index.ts';
import type { SessionModel } from '../inspector/session-model.ts';
import { ChatServer } from '../server/index.ts';
import { DEMO_ACCOUNTS, runScenario } from './scenario.ts';

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
}

/** What the demo showed. */
export interface DemoResult {
  model: SessionModel;
  /** All ten steps were seen. */
  allGreen: boolean;
}

// The accounts live in a throwaway in-memory database, so a cheap scrypt cost is fine here.
const DEMO_SCRYPT = { N: 1024, r: 8, p: 1 };

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
async function caughtUp(inspector: Inspector): Promise<void> {
  await inspector.idle();
  await inspector.waitFor(closingsDone, 5_000, 'the closing demo connections to close');
}

/**
 * `chatlab demo`: starts a reference server on a free port with a throwaway database and the
 * demo accounts, puts the inspector in front of it, plays the scripted chat through the
 * inspector and shows it as a sequence diagram ending with the 10-step checklist.
 */
export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const server = new ChatServer({ port: 0, db: ':memory:', scrypt: DEMO_SCRYPT });
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
    });
    const where = `${inspector.address.host}:${inspector.address.port}`;
    const intro = `chatlab demo: reference server on ${target.host}:${target.port}, inspector on ${where}; alice, bob and carol chat through it`;
    const active = inspector;
    if (active.plain) active.plain.print(intro);
    active.tui?.setStatus(intro);
    await runScenario({
      host: inspector.address.host,
      port: inspector.address.port,
      paceMs: options.paceMs,
      narrate: async (text) => {
        await caughtUp(active);
        if (active.plain) active.plain.print(`── ${text}`);
        active.tui?.setStatus(text);
      },
    });
    // Let the last FINs and closes reach the diagram before summing up.
    await active.waitFor((m) => m.counters.open === 0, 5_000, 'every demo connection to close');
    await active.stop();
    const allGreen = active.model.allStepsSeen;
    if (active.tui) {
      active.tui.setStatus(allGreen ? 'demo finished: all 10 steps seen. Press q to quit' : 'demo finished, but some steps were not seen. Press q to quit');
      await active.tui.quit;
    }
    return { model: active.model, allGreen };
  } finally {
    await inspector?.stop().catch(() => undefined);
    inspector?.tui?.destroy();
    await server.stop();
  }
}
