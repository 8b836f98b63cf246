/**
 * The big-room scenario (`--scenario big-room`, `--users N`, default 10,000): every user logs in to
 * lobby against the chatlab reference server, pinned like the fan-out scenario (server on CPU 0,
 * this generator on CPU 1). Reports login time and rate, the presence storm (n(n−1)/2 frames) and
 * how long it takes to drain, and the server's memory per logged-in user. Accounts are made by
 * bench/servers/chatlab.ts through the library (AccountStore.add, scrypt N=16: login cost is not
 * what this measures).
 */
import { chatlab } from '../servers/index.ts';
import { formatBigRoomReport, measureBigRoom } from '../lib/big-room.ts';
import type { Scenario } from './scenario.ts';

/** Users when `--users` is not given. */
export const BIG_ROOM_USERS = 10_000;

/** Logins in flight at once: well under the listen backlog (511), so no connect waits unaccepted. */
const IN_FLIGHT = 256;

export const bigRoomScenario: Scenario = {
  id: 'big-room',
  description: 'N users (default 10,000) log in to one room: login rate, presence storm, memory per user',
  // n(n−1)/2 presence frames: minutes at 10,000 users, so only when asked for by name.
  onlyByName: true,
  async run(context) {
    const { args, placement, progress, print } = context;
    const users = args.users ?? BIG_ROOM_USERS;
    progress(`big-room: starting the chatlab server with ${users} accounts`);
    const setupStarted = performance.now();
    const server = await chatlab.start({ cpu: placement.serverCpu, clients: users, profileDir: args.profileDir ?? undefined });
    const setupSeconds = (performance.now() - setupStarted) / 1000;
    try {
      progress(`big-room: ${server.readyLine} (${setupSeconds.toFixed(1)} s); logging in ${users} users, ${IN_FLIGHT} at a time`);
      const result = await measureBigRoom({ server, users, inFlight: IN_FLIGHT, stallMs: 10_000, progress });
      print('');
      print(`== Big room: ${users.toLocaleString('en-US')} users log in to lobby (chatlab server${placement.serverCpu !== undefined ? ` on CPU ${placement.serverCpu}` : ''})`);
      print(`setup       server start with ${users.toLocaleString('en-US')} accounts made through the library (scrypt N=16): ${setupSeconds.toFixed(1)} s`);
      for (const line of formatBigRoomReport(result)) print(line);
      return { setupSeconds, ...result };
    } finally {
      await server.stop();
    }
  },
};
