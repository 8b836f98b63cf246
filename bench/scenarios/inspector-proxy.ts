/**
 * The inspector proxy scenario: what `chatlab inspect` costs a chat in throughput and latency.
 * The measurement itself is bench/inspector-proxy.ts (written with the inspector); this file
 * only plugs it into `npm run bench` (`--scenario inspector-proxy`, or `all`).
 */
import { spawnSync } from 'node:child_process';
import { cpus } from 'node:os';
import { formatInspectorProxyReport, measureInspectorProxy } from '../inspector-proxy.ts';
import type { Scenario } from './scenario.ts';

/** Runs bench/inspector-proxy.ts and prints its report. */
export const inspectorProxyScenario: Scenario = {
  id: 'inspector-proxy',
  description: 'throughput and added latency of chatlab inspect between a client and a server',
  async run(context) {
    // The client, the test servers and the inspector process (which inherits this process's
    // affinity) should not all share the generator's one CPU: unpin for this scenario.
    if (context.placement.generatorCpu !== undefined) {
      spawnSync('taskset', ['-a', '-p', '-c', `0-${cpus().length - 1}`, String(process.pid)]);
    }
    const result = await measureInspectorProxy({ progress: context.progress });
    context.print('');
    context.print('== Inspector proxy (unpinned: client, servers and inspector share the CPUs)');
    for (const line of formatInspectorProxyReport(result)) context.print(line);
    return result;
  },
};
