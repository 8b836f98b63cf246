/**
 * Benchmark scenarios, chosen with `--scenario NAME` (default `all`: each in turn).
 * A new scenario goes in its own file here exporting a {@link Scenario}, plus one entry in
 * SCENARIOS. It can reuse bench/lib: servers in pinned processes (servers/index.ts), the
 * open-loop senders, the meter, and runFanoutLadder() against any host:port (a proxy's, too).
 */
import type { BenchArgs } from '../lib/args.ts';
import type { Placement } from '../lib/environment.ts';
import { burstScenario } from './burst.ts';
import { clusterScenario } from './cluster.ts';
import { bigRoomScenario } from './big-room.ts';
import { deliveryPathScenario } from './delivery-path.ts';
import { fanoutScenario } from './fanout.ts';
import { footprintScenario } from './footprint.ts';
import { inspectorProxyScenario } from './inspector-proxy.ts';

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

/** Every scenario, in the order `all` runs them (those marked `onlyByName` only when named). */
export const SCENARIOS: readonly Scenario[] = [fanoutScenario, deliveryPathScenario, footprintScenario, inspectorProxyScenario, burstScenario, clusterScenario, bigRoomScenario];
