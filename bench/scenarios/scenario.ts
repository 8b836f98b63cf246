/**
 * The shape of a benchmark scenario and what run.ts hands it. In a file of its own so that the
 * scenarios and the list of them (index.ts) both import it without importing each other.
 */
import type { BenchArgs } from '../lib/args.ts';
import type { Placement } from '../lib/environment.ts';

/** What a scenario gets from run.ts. */
export interface ScenarioContext {
  args: BenchArgs;
  placement: Placement;
  /** Prints a progress line (stderr, so stdout stays the report). */
  progress(line: string): void;
  /** Prints a line of the report (stdout). */
  print(line: string): void;
}

/** One benchmark scenario. */
export interface Scenario {
  readonly id: string;
  readonly description: string;
  /** Run only when named with `--scenario` (too long for `all`). */
  readonly onlyByName?: boolean;
  /** Runs it, prints its report, and returns JSON-able results for bench/results/. */
  run(context: ScenarioContext): Promise<unknown>;
}
