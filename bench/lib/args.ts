/**
 * Command-line flags of `npm run bench -- [flags]`. Bad values end the run with one clear line.
 */
import { parseArgs } from 'node:util';

/** Parsed benchmark options. */
export interface BenchArgs {
  scenario: string;
  clients: number;
  /** Users of the big-room scenario, and the last step of the footprint scenario (null: each one's default). */
  users: number | null;
  senders: number;
  rates: number[];
  stepMs: number;
  settleMs: number;
  servers: string[];
  quick: boolean;
  pin: boolean;
  small: boolean;
  json: string | null;
  plot: boolean;
  /** Directory for CPU profiles of the Node servers (--profile), else null. */
  profileDir: string | null;
  /** Simultaneous connects of the burst scenario. */
  burst: number;
}

/** A usage problem, printed as one line. */
export class UsageError extends Error {}

/** The default ladder of offered broadcasts/s (all senders together). */
export const DEFAULT_RATES = [500, 1000, 2000, 3000, 4000, 6000, 8000];
/** The ladder of --quick. */
export const QUICK_RATES = [500, 1000, 2000, 4000, 8000];

/**
 * Default length of a rate step, in ms. A server that delivers only a share `f` of the offered
 * rate ends a step of length T with a backlog that takes T·(1 − f)/f to drain. The pass mark is a
 * drain under 250 ms, so a step must last at least 0.25 s · f/(1 − f) to catch a server that is
 * 5% short (f = 0.95): 4.75 s. With the former 2 s steps a server up to 11% short still passed
 * (0.25 · 0.89/0.11 ≈ 2 s): at 8,000/s chatlab passed with 2 s steps and failed with 3 s ones.
 */
export const DEFAULT_STEP_MS = 5000;
/** Step length of --quick: a smoke run, which only catches a server ≥ 20% short of the offered rate. */
export const QUICK_STEP_MS = 1000;

export const USAGE = `usage: npm run bench -- [options]

  --clients N        logged-in clients in the room (default 1000)
  --users N          users of the big-room scenario (default 10000), and the last
                     step of the footprint scenario (default 1000, then 10000)
  --senders N        of which this many send (default 4, at most 10)
  --rates A,B,...    offered broadcasts/s, all senders together (default ${DEFAULT_RATES.join(',')})
  --step-ms MS       length of each rate step (default ${DEFAULT_STEP_MS}: long enough that a server
                     5% short of the offered rate fails on its backlog; --quick: ${QUICK_STEP_MS})
  --settle-ms MS     longest wait for a backlog after a step (default 3000; --quick: 2000)
  --servers LIST     which servers, in order: raw,ngircd,chatlab (default all)
  --quick            shorter steps and a shorter ladder (${QUICK_RATES.join(',')})
  --no-pin           do not pin processes to CPUs with taskset
  --no-small         skip the small latency scenario (10 clients at 200/s)
  --json FILE        where to write the results (default bench/results/latest.json)
  --no-json          do not write results
  --no-plot          do not print the ASCII plot
  --profile          run the Node servers with --cpu-prof; profiles go to
                     bench/results/profiles (or --profile-dir DIR); open in Chrome DevTools
  --burst N          simultaneous connects of the burst scenario (default 5000)
  --scenario NAME    fanout, delivery-path, footprint, inspector-proxy, burst,
                     big-room, or all (default all: every scenario but big-room,
                     which runs only when named)
  -h, --help         this text`;

function positiveInt(name: string, text: string, max = Number.MAX_SAFE_INTEGER): number {
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > max) {
    throw new UsageError(`--${name} must be a whole number from 1 to ${max}, got "${text}"`);
  }
  return Number(text);
}

/** Parses argv (without node and the script). Returns null when help was asked for. */
export function parseBenchArgs(argv: string[]): BenchArgs | null {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: false,
      options: {
        clients: { type: 'string' },
        users: { type: 'string' },
        senders: { type: 'string' },
        rates: { type: 'string' },
        'step-ms': { type: 'string' },
        'settle-ms': { type: 'string' },
        servers: { type: 'string' },
        quick: { type: 'boolean' },
        'no-pin': { type: 'boolean' },
        'no-small': { type: 'boolean' },
        json: { type: 'string' },
        'no-json': { type: 'boolean' },
        'no-plot': { type: 'boolean' },
        profile: { type: 'boolean' },
        'profile-dir': { type: 'string' },
        scenario: { type: 'string' },
        burst: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    throw new UsageError(`${(err as Error).message} (see --help)`);
  }
  const v = parsed.values;
  if (v.help) return null;
  const quick = v.quick ?? false;
  const rates = v.rates ? v.rates.split(',').map((r) => positiveInt('rates', r.trim(), 1_000_000)) : quick ? QUICK_RATES : DEFAULT_RATES;
  const known = ['raw', 'ngircd', 'chatlab'];
  const servers = v.servers ? v.servers.split(',').map((s) => s.trim()) : known;
  for (const s of servers) {
    if (!known.includes(s)) throw new UsageError(`--servers: unknown server "${s}" (known: ${known.join(', ')})`);
  }
  const clients = v.clients ? positiveInt('clients', v.clients, 100_000) : 1000;
  const senders = v.senders ? positiveInt('senders', v.senders, 10) : 4;
  if (clients < senders + 1) throw new UsageError(`--clients must be more than --senders (${senders})`);
  return {
    scenario: v.scenario ?? 'all',
    clients,
    users: v.users ? positiveInt('users', v.users, 100_000) : null,
    senders,
    rates,
    stepMs: v['step-ms'] ? positiveInt('step-ms', v['step-ms'], 600_000) : quick ? QUICK_STEP_MS : DEFAULT_STEP_MS,
    settleMs: v['settle-ms'] ? positiveInt('settle-ms', v['settle-ms'], 600_000) : quick ? 2000 : 3000,
    servers,
    quick,
    pin: !v['no-pin'],
    small: !v['no-small'],
    json: v['no-json'] ? null : (v.json ?? 'bench/results/latest.json'),
    plot: !v['no-plot'],
    profileDir: v['profile-dir'] ?? (v.profile ? 'bench/results/profiles' : null),
    burst: v.burst ? positiveInt('burst', v.burst, 20_000) : 5000,
  };
}
