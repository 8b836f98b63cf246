/**
 * The connection-burst scenario: `--burst N` (default 5,000) simultaneous connects against the
 * chatlab server, once with Node's old default listen backlog (511) and once with the server's
 * default (the OS maximum), in the same run. Server and generator are pinned like the fan-out's.
 * Reports how many got `hello`, how many were connected but never greeted, and the time from
 * the burst to each hello.
 */
import { measureBurst, type BurstResult } from '../lib/burst.ts';
import { chatlab } from '../servers/index.ts';
import { defaultListenBacklog } from '../../src/server/index.ts';
import type { Scenario } from './scenario.ts';

/** Node's default listen backlog: what `chatlab server` used before the backlog option. */
const OLD_BACKLOG = 511;
/** How long a burst may take to be greeted before the rest counts as hanging. */
const WAIT_MS = 10_000;

interface BurstRow extends BurstResult {
  backlog: string;
}

const ms = (value: number | null): string => (value === null || Number.isNaN(value) ? '—' : value.toFixed(0));

function formatTable(rows: BurstRow[]): string[] {
  const header = ['backlog', 'connects', 'hello', 'no hello', 'no connect', 'failed', 'p50 ms', 'p99 ms', 'max ms', 'all hellos ms'];
  const lines = rows.map((r) => {
    const failed =
      Object.entries(r.failed)
        .map(([code, n]) => `${n} ${code}`)
        .join(', ') || '0';
    return [r.backlog, String(r.connections), String(r.hellos), String(r.silent), String(r.unconnected), failed, ms(r.helloMs.p50), ms(r.helloMs.p99), ms(r.helloMs.max), ms(r.allHellosMs)];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] as string).length)));
  const format = (cells: string[]): string => cells.map((c, i) => c.padStart(widths[i] as number)).join('  ');
  return [format(header), ...lines.map(format)];
}

/** `--scenario burst`. */
export const burstScenario: Scenario = {
  id: 'burst',
  description: 'a burst of simultaneous connects: hellos and time to hello, listen backlog 511 vs the OS maximum',
  async run(context) {
    const { args, placement } = context;
    const why = chatlab.unavailable();
    if (why) {
      context.progress(`burst: ${why}`);
      return { skipped: why };
    }
    const osMax = defaultListenBacklog();
    const rows: BurstRow[] = [];
    for (const [label, backlog] of [
      [`${OLD_BACKLOG} (old)`, OLD_BACKLOG],
      [`${osMax} (default)`, undefined],
    ] as const) {
      context.progress(`burst: ${args.burst} connects, backlog ${label}`);
      const server = await chatlab.start({
        cpu: placement.serverCpu,
        clients: 1,
        env: { BENCH_MAX_CONNECTIONS: String(args.burst + 100), ...(backlog !== undefined && { BENCH_BACKLOG: String(backlog) }) },
      });
      try {
        rows.push({ backlog: label, ...(await measureBurst({ host: server.host, port: server.port, connections: args.burst, waitMs: WAIT_MS })) });
      } finally {
        await server.stop();
      }
    }
    context.print('');
    context.print(`== Connection burst: ${args.burst} simultaneous connects to the chatlab server (waiting ${WAIT_MS / 1000} s for hellos)`);
    for (const line of formatTable(rows)) context.print(line);
    context.print('no hello = the kernel completed the connection but the server never accepted it within the wait (a full listen queue; SYN cookies)');
    return { waitMs: WAIT_MS, rows };
  },
};
