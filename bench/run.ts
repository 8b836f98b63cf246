/**
 * `npm run bench -- [options]`: chatlab's benchmarks (see bench/README.md).
 *
 * This process is the load generator: it pins itself to CPU 1, starts each server in its own
 * process pinned to CPU 0, drives the scenario, prints the report on stdout (progress on
 * stderr) and writes the results as JSON. A missed target never fails the run; only a usage
 * problem or an environment that cannot run the bench does (one clear line, exit code 1).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseBenchArgs, UsageError, USAGE } from './lib/args.ts';
import { checkOpenFiles, machineSummary, placeProcesses } from './lib/environment.ts';
import { BIG_ROOM_USERS } from './scenarios/big-room.ts';
import { burstScenario } from './scenarios/burst.ts';
import { SCENARIOS } from './scenarios/index.ts';
import { REPO_ROOT } from './servers/index.ts';

async function main(): Promise<number> {
  let args;
  try {
    args = parseBenchArgs(process.argv.slice(2));
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`bench: ${err.message}`);
      return 1;
    }
    throw err;
  }
  if (!args) {
    console.log(USAGE);
    return 0;
  }
  const scenarios = args.scenario === 'all' ? SCENARIOS.filter((s) => !s.onlyByName) : SCENARIOS.filter((s) => s.id === args.scenario);
  if (scenarios.length === 0) {
    console.error(`bench: unknown scenario "${args.scenario}" (known: ${SCENARIOS.map((s) => s.id).join(', ')}, all)`);
    return 1;
  }
  // The burst and big-room scenarios hold their connections at once, like the fan-out's clients.
  const sockets = Math.max(args.clients, scenarios.includes(burstScenario) ? args.burst : 0, scenarios.some((s) => s.id === 'big-room') ? (args.users ?? BIG_ROOM_USERS) : 0);
  const fdProblem = checkOpenFiles(sockets);
  if (fdProblem) {
    console.error(`bench: ${fdProblem}`);
    return 1;
  }

  const placement = placeProcesses(args.pin);
  const before = machineSummary();
  const startedAt = Date.now();
  for (const scenario of scenarios) console.log(`chatlab bench — ${scenario.id}: ${scenario.description}`);
  console.log(`machine: ${before.cpus} × ${before.cpu}, Node ${before.node}; ${placement.note}`);
  if (before.load1 > 0.5) {
    console.log(`note: 1-minute load average is ${before.load1.toFixed(2)} before the run: other processes are busy, so figures are noisy`);
  }
  console.error('(progress on stderr; Ctrl-C stops the run and its server processes)');

  const results: Record<string, unknown> = {};
  for (const scenario of scenarios) {
    results[scenario.id] = await scenario.run({
      args,
      placement,
      progress: (line) => console.error(line),
      print: (line) => console.log(line),
    });
  }

  const after = machineSummary();
  const elapsed = (Date.now() - startedAt) / 1000;
  console.log('');
  console.log(`run took ${elapsed.toFixed(0)} s; 1-minute load average ${before.load1.toFixed(2)} before, ${after.load1.toFixed(2)} after`);
  if (args.json) {
    const file = resolve(REPO_ROOT, args.json);
    mkdirSync(dirname(file), { recursive: true });
    const document = {
      scenarios: scenarios.map((s) => s.id),
      startedAt: new Date(startedAt).toISOString(),
      elapsedSeconds: elapsed,
      machine: { ...before, load1After: after.load1 },
      placement,
      options: args,
      results,
    };
    writeFileSync(file, JSON.stringify(document, null, 2) + '\n');
    console.log(`results written to ${file}`);
  }
  return 0;
}

process.on('SIGINT', () => {
  console.error('\nbench: interrupted; stopping server processes');
  process.exit(130); // the 'exit' handler in server-process.ts kills the children
});

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`bench: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
