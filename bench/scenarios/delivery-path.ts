/**
 * The delivery-path scenario: the server's own CPU cost per delivery of a broadcast, without the
 * kernel. The real Hub, Outbox, FlushScheduler and OutputBudget fan messages out to 1,000
 * members whose sockets are stand-ins that accept every write (what a socket does when the
 * kernel takes everything), 8 broadcasts per event-loop turn as in the fan-out at 8,000/s.
 *
 * Why: on a shared machine the fan-out figures move with other people's load, while this one
 * measures only JavaScript work in this process (CPU time, not wall time), so two versions of
 * the server can be compared in one run: BENCH_CHATLAB_MODULE=/abs/path/src/server/index.ts
 * adds that build's row next to the working tree's.
 */
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO_ROOT } from '../servers/index.ts';
import type { Scenario } from './scenario.ts';

const MEMBERS = 1000;
const BROADCASTS_PER_TURN = 8;
const WARM_TURNS = 300;
const TURNS = 3000;
const SENDERS = 4;

type HubModule = typeof import('../../src/server/hub.ts');
type OutboxModule = typeof import('../../src/server/outbox.ts');
type BudgetModule = typeof import('../../src/server/output-budget.ts');

/** A socket stand-in that takes every write at once (as when the kernel has room). */
class AcceptingSocket {
  readonly writable = true;
  readonly writableLength = 0;
  written = 0;
  write(bytes: Buffer): boolean {
    this.written += bytes.length;
    return true;
  }
  on(): this {
    return this;
  }
  once(): this {
    return this;
  }
}

/** CPU ns per delivery of the server build whose src/server directory is `serverDir`. */
async function measure(serverDir: string): Promise<{ cpuNsPerDelivery: number; bytes: number }> {
  const load = (file: string): Promise<unknown> => import(pathToFileURL(join(serverDir, file)).href);
  const { Hub } = (await load('hub.ts')) as HubModule;
  const { FlushScheduler, Outbox } = (await load('outbox.ts')) as OutboxModule;
  const { OutputBudget } = (await load('output-budget.ts')) as BudgetModule;
  const hub = new Hub();
  const scheduler = new FlushScheduler();
  const budget = new OutputBudget({ outputHighWaterBytes: 32 * 1024 * 1024, outputLowWaterBytes: 16 * 1024 * 1024, outputStallMs: 1000 });
  const sockets: AcceptingSocket[] = [];
  const members = Array.from({ length: MEMBERS }, (_, i) => {
    const socket = new AcceptingSocket();
    sockets.push(socket);
    const outbox = new Outbox(socket as never, 2 * 1024 * 1024, scheduler, () => {}, budget);
    const member = { user: `u${i}`, deliver: (bytes: Buffer) => void outbox.push(bytes) };
    hub.join(member);
    return member;
  });
  const text = 'x'.repeat(100);
  let msgid = 0;
  const turn = async (): Promise<void> => {
    for (let i = 0; i < BROADCASTS_PER_TURN; i++) {
      msgid++;
      hub.send({ type: 'message', from: `u${msgid % SENDERS}`, room: 'lobby', text, ts: Date.now(), msgid }, { room: 'lobby' }, members[msgid % SENDERS]);
    }
    await new Promise((resolve) => setImmediate(resolve));
  };
  for (let i = 0; i < WARM_TURNS; i++) await turn();
  const before = process.cpuUsage();
  for (let i = 0; i < TURNS; i++) await turn();
  const used = process.cpuUsage(before);
  const deliveries = TURNS * BROADCASTS_PER_TURN * (MEMBERS - 1);
  return { cpuNsPerDelivery: ((used.user + used.system) * 1000) / deliveries, bytes: sockets.reduce((sum, socket) => sum + socket.written, 0) };
}

/** JavaScript CPU per delivery of the broadcast path (hub → outbox → flush), sockets stubbed. */
export const deliveryPathScenario: Scenario = {
  id: 'delivery-path',
  description: 'server CPU per delivery of a broadcast without the kernel (hub → outbox → flush), for A/B comparisons on a busy machine',
  async run(context) {
    const builds: { label: string; dir: string }[] = [{ label: 'working tree', dir: join(REPO_ROOT, 'src/server') }];
    const other = process.env.BENCH_CHATLAB_MODULE;
    if (other) builds.push({ label: other, dir: dirname(other) });
    const rows: { label: string; cpuNsPerDelivery: number }[] = [];
    // Twice each, alternating, so a burst of load from other processes shows as disagreement.
    for (let round = 0; round < 2; round++) {
      for (const build of builds) {
        context.progress(`delivery-path: ${build.label} (round ${round + 1})`);
        const { cpuNsPerDelivery } = await measure(build.dir);
        rows.push({ label: build.label, cpuNsPerDelivery });
      }
    }
    context.print('');
    context.print(`== Delivery path: ${MEMBERS} members, ${BROADCASTS_PER_TURN} broadcasts per turn, sockets stubbed (CPU ns per delivery, lower is better)`);
    for (const row of rows) context.print(`  ${row.cpuNsPerDelivery.toFixed(1).padStart(7)} ns  ${row.label}`);
    return { rows };
  },
};
