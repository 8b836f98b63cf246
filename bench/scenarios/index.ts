/**
 * Benchmark scenarios, chosen with `--scenario NAME` (default `all`: each in turn).
 * A new scenario goes in its own file here exporting a {@link Scenario} (scenario.ts), plus one entry in
 * SCENARIOS. It can reuse bench/lib: servers in pinned processes (servers/index.ts), the
 * open-loop senders, the meter, and runFanoutLadder() against any host:port (a proxy's, too).
 */
import { burstScenario } from './burst.ts';
import { clusterScenario } from './cluster.ts';
import { bigRoomScenario } from './big-room.ts';
import { deliveryPathScenario } from './delivery-path.ts';
import { fanoutScenario } from './fanout.ts';
import { footprintScenario } from './footprint.ts';
import { inspectorProxyScenario } from './inspector-proxy.ts';
import type { Scenario } from './scenario.ts';

export type { Scenario, ScenarioContext } from './scenario.ts';

/** Every scenario, in the order `all` runs them (those marked `onlyByName` only when named). */
export const SCENARIOS: readonly Scenario[] = [fanoutScenario, deliveryPathScenario, footprintScenario, inspectorProxyScenario, burstScenario, clusterScenario, bigRoomScenario];
