import type { Command } from 'commander';
import { runDemo } from '../../demo/demo.ts';
import { checklistLines } from '../../inspector/views/styles.ts';
import { CliError, describeError } from '../errors.ts';

interface DemoCommandOptions {
  fast?: boolean;
  plain?: boolean;
  record?: string;
}

/** Pause between actions when a person is watching. */
const WATCH_PACE_MS = 700;

/** Registers `chatlab demo` (what `npm start` runs). */
export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('watch a scripted chat (alice, bob, carol) go through all 10 steps in the inspector; q to quit')
    .option('--fast', 'no pauses between actions')
    .option('--plain', 'print the diagram as text instead of the live terminal UI (automatic when stdout is not a terminal)')
    .option('--record <file>', 'also write the session to a JSONL trace (replay it with "chatlab inspect replay")')
    .action((options: DemoCommandOptions) => runDemoCommand(options));
}

async function runDemoCommand(options: DemoCommandOptions): Promise<void> {
  const tty = Boolean(process.stdout.isTTY);
  const tui = tty && Boolean(process.stdin.isTTY) && !options.plain;
  const paceMs = options.fast || !tty ? 0 : WATCH_PACE_MS;
  let result;
  try {
    result = await runDemo({ view: tui ? 'tui' : 'plain', paceMs, record: options.record });
  } catch (error) {
    throw new CliError(`demo failed: ${describeError(error)}`);
  }
  if (tui) process.stdout.write(checklistLines(result.model).join('\n') + '\n');
  if (options.record) process.stdout.write(`trace written to ${options.record}\n`);
  if (!result.allGreen) throw new CliError('demo finished without seeing all 10 steps');
  // blessed keeps stdin referenced after the terminal UI closed; a TTY write is synchronous.
  if (tui) process.exit(0);
}
