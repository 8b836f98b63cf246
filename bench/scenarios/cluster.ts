/**
 * The cluster scenario (issue 15): the fan-out workload (N clients in lobby, open-loop senders, a
 * ladder of offered rates) against the plain chatlab server and against clusters of 1, 2 and 4
 * nodes over one Redis, the clients spread evenly over the nodes. Reports capacity and p99 per
 * setup, and the cost of clustering on one node (1-node cluster vs plain) as a ratio of the same run.
 */
import { availableParallelism } from 'node:os';
import { runFanoutLadder, type LadderResult } from '../lib/fanout.ts';
import { formatCapacity, formatRatio, formatStepTable } from '../lib/report.ts';
import { chatlab, type BenchServer } from '../servers/index.ts';
import { chatlabCluster } from '../servers/chatlab-cluster.ts';
import type { Scenario } from './scenario.ts';

/** The cluster sizes measured. */
export const CLUSTER_NODES = [1, 2, 4] as const;
/** A shorter ladder than the fan-out scenario's, so `npm run bench` stays short with four setups. */
export const CLUSTER_RATES = [250, 500, 1000, 2000, 4000];
/** Step length unless --step-ms is given (the ladder only has to find each setup's knee). */
export const CLUSTER_STEP_MS = 2_000;

/** The p99 latency of the highest step that passed (ms), or null. */
function p99AtCapacity(ladder: LadderResult): number | null {
  const step = ladder.steps.find((s) => s.offeredRate === ladder.capacity);
  return step && Number.isFinite(step.p99Ms) ? step.p99Ms : null;
}

export const clusterScenario: Scenario = {
  id: 'cluster',
  description: 'plain server vs 1, 2 and 4 nodes over Redis (clients spread over the nodes): capacity, p99, cost of clustering',
  async run(context) {
    const { args, placement, print } = context;
    // Nodes and Redis go on every CPU but the generator's (all of them when not pinned).
    const serverCpus = placement.generatorCpu === undefined ? [] : Array.from({ length: availableParallelism() }, (_, cpu) => cpu).filter((cpu) => cpu !== placement.generatorCpu);
    const rates = args.rates.length > 0 && process.argv.some((arg) => arg.startsWith('--rates')) ? args.rates : CLUSTER_RATES;
    const stepMs = process.argv.some((arg) => arg.startsWith('--step-ms')) ? args.stepMs : Math.min(args.stepMs, CLUSTER_STEP_MS);
    const setups: BenchServer[] = [chatlab, ...CLUSTER_NODES.map((nodes) => chatlabCluster(nodes, serverCpus))];
    const ladders: LadderResult[] = [];
    for (const server of setups) {
      const why = server.unavailable();
      if (why) {
        context.progress(`cluster: ${server.id}: ${why}`);
        continue;
      }
      context.progress(`cluster: ${server.id} — ${server.description}`);
      ladders.push(
        await runFanoutLadder(server, {
          clients: args.clients,
          senders: args.senders,
          rates,
          stepMs,
          settleMs: args.settleMs,
          serverCpu: placement.serverCpu,
          generatorCpu: placement.generatorCpu,
          connectBatch: 100,
          warmup: true,
          progress: context.progress,
        }),
      );
    }
    const topRate = Math.max(...rates);
    print('');
    print(`== Cluster: ${args.clients} clients in lobby spread over the nodes, ${args.senders} open-loop senders, ${stepMs} ms per step`);
    print(`Server CPUs: ${serverCpus.length > 0 ? serverCpus.join(',') : 'not pinned'} (nodes and Redis pinned in turn); the generator on ${placement.generatorCpu ?? 'any CPU'}`);
    print(formatStepTable(ladders));
    print('');
    print('Capacity and p99 at capacity per setup (srv cpu sums every node and Redis):');
    for (const ladder of ladders) {
      const p99 = p99AtCapacity(ladder);
      print(`  ${ladder.server.padEnd(18)} ${formatCapacity(ladder, topRate)}; p99 ${p99 === null ? '—' : `${p99.toFixed(2)} ms`}`);
    }
    const plain = ladders.find((l) => l.server === 'chatlab');
    const one = ladders.find((l) => l.server === 'chatlab-cluster-1');
    print(`Cost of clustering on one node: 1-node cluster / plain capacity = ${formatRatio(one, plain, topRate)}`);
    return { ladders, rates, stepMs, serverCpus };
  },
};
