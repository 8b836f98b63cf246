import { InvalidArgumentError, type Command } from 'commander';
import { readFileSync } from 'node:fs';
import { CliError } from '../errors.ts';
import { parseHostPort, parsePort, parsePositiveInt, secondsUpTo } from '../options.ts';
import { stopVerifierOnSignal } from '../verifier-signals.ts';
import {
  EXTENSION_STEPS,
  formatCheck,
  formatFailure,
  formatLeftBehind,
  formatHeader,
  formatSummary,
  LAST_STEP,
  renderJson,
  verifyClient,
  verifyServer,
  verifyUdpServer,
  DEFAULT_UDP_EXPIRY_MS,
  type Account,
  type VerifyReport,
} from '../../verify/index.ts';
import { colorEnabled } from '../../terminal/index.ts';

interface VerifyFlags {
  through?: number;
  only?: string[];
  port?: number;
  target?: { host: string; port: number };
  user?: Account[];
  accounts?: string;
  client?: boolean;
  udp?: boolean;
  expiry?: number;
  json?: boolean;
  timeout: number;
  startTimeout: number;
}

function parseStep(value: string): number {
  const n = parsePositiveInt(value);
  if (n > LAST_STEP) throw new InvalidArgumentError(`"${value}" is not a step: steps go from 1 to 10, then the extension groups 11 to ${LAST_STEP}.`);
  return n;
}

function parseGroups(value: string): string[] {
  const names = value
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  const known = EXTENSION_STEPS.map((s) => s.feature as string);
  const unknown = names.filter((name) => !known.includes(name));
  if (!names.length || unknown.length) throw new InvalidArgumentError(`"${value}" is not a list of extension groups: choose from ${known.join(', ')} (comma-separated).`);
  return names;
}

function collectUser(value: string, previous: Account[] = []): Account[] {
  const at = value.indexOf(':');
  if (at < 1 || at === value.length - 1) throw new InvalidArgumentError(`"${value}" is not NAME:PASSWORD (for example alice:wonderland).`);
  return [...previous, { user: value.slice(0, at), password: value.slice(at + 1) }];
}

/** Reads an accounts file: a JSON object mapping user names to passwords. */
function readAccounts(path: string): Account[] {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new CliError(`cannot read the accounts file ${path}: ${(error as Error).message}`);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data) || !Object.values(data).every((v) => typeof v === 'string')) {
    throw new CliError(`the accounts file ${path} must hold a JSON object of user → password, like {"alice": "wonderland"}`);
  }
  return Object.entries(data as Record<string, string>).map(([user, password]) => ({ user, password }));
}

const EXAMPLES = `
Examples:
  chatlab verify -- python3 server.py              start it (PORT and HOST in its environment), check steps 1–10
  chatlab verify --through 3 -- node server.js     only the steps of the first lessons
  chatlab verify --only private,rooms -- python3 server.py   steps 1–10, then only these extension groups
  chatlab verify -- npx chatlab server --port {port} --db verify.db   {port} and {host} are replaced (a file: check 16.restart restarts it)
  chatlab verify --target 127.0.0.1:7070 --user alice:wonderland --user bob:builder
  chatlab verify --client -- python3 client.py     play the server and check a client
  chatlab verify --udp --accounts accounts.json -- node server.mjs   a UDP server (lesson 15): login, relay, quit, expiry

A client gets HOST, PORT, CHATLAB_USER and CHATLAB_PASSWORD in its environment; see docs/verifier.md.
Exit code: 0 when every check passed, 1 otherwise.`;

/** `chatlab verify`: the stage tester for a learner's server (or, with --client, client). */
export function registerVerifyCommand(program: Command): void {
  program
    .command('verify')
    .description('check a chatlab/1 server (or with --client, a client) step by step, and explain the first failure')
    .argument('[command...]', 'the command that starts the server or client (put it after --)')
    .option(
      '--through <N>',
      `run the checks of steps 1..N only (1–10: the lessons; 11–${LAST_STEP}: the extension groups ${EXTENSION_STEPS.map((s) => `${s.step} ${s.feature}`).join(', ')}); default: all`,
      parseStep,
    )
    .option('--only <groups>', 'after steps 1–10, check only these extension groups (comma-separated, e.g. private,rooms)', parseGroups)
    .option('--port <P>', 'port given to the server in PORT (server mode) or listened on (client mode); default: a free port', parsePort)
    .option('--target <host:port>', 'verify a server that is already running instead of starting one', parseHostPort)
    .option('--user <NAME:PASSWORD>', 'an account to log in with, when the server has no register (repeat it)', collectUser)
    .option('--accounts <file>', 'a JSON file {"user": "password", …} of accounts to log in with')
    .option('--client', 'verify a client: the verifier plays the server')
    .option('--udp', 'verify a server that speaks UDP, one frame per datagram (lesson 15): login, relay to the others, quit, expiry of a silent peer')
    .option('--expiry <seconds>', `with --udp: how long a silent peer may stay online before the expiry check fails (default ${DEFAULT_UDP_EXPIRY_MS / 1000})`, secondsUpTo(600))
    .option('--json', 'print the report as JSON (for machines)')
    .option('--timeout <seconds>', 'how long to wait for each answer', secondsUpTo(600), 5)
    .option('--start-timeout <seconds>', 'how long the command may take to listen (or, with --client, to connect)', secondsUpTo(600), 10)
    .addHelpText('after', EXAMPLES)
    .action(async (command: string[], flags: VerifyFlags) => {
      const users = [...(flags.user ?? []), ...(flags.accounts ? readAccounts(flags.accounts) : [])];
      if (flags.udp && flags.client) throw new CliError('--udp checks a UDP server; there is no UDP client check: leave out --client.');
      if (flags.udp && flags.only) throw new CliError('--udp has its own short list of checks (steps 1–10): --only is for the extension groups of a TCP server.');
      if (flags.expiry !== undefined && !flags.udp) throw new CliError('--expiry is for UDP servers: add --udp.');
      if (flags.client) {
        if (!command.length) throw new CliError('--client needs the command that starts the client: chatlab verify --client -- python3 client.py');
        if (flags.target) throw new CliError('--target is for servers; with --client the verifier is the server and starts the client itself.');
        if (flags.only) throw new CliError('--only selects extension groups of a server; the client checks go from step 1 to 10.');
        if (flags.through !== undefined && flags.through > 10) throw new CliError('the client checks go from step 1 to 10: give --through 10 or less with --client.');
      } else {
        if (command.length && flags.target) throw new CliError('give either a command to start the server or --target host:port, not both.');
        if (!command.length && !flags.target) throw new CliError('give the command that starts your server after --, or --target host:port: chatlab verify -- python3 server.py');
        if (flags.target && flags.port !== undefined) throw new CliError('--port is the port given to a server the verifier starts; with --target the port is in host:port.');
      }
      const color = !flags.json && colorEnabled(process.stdout);
      const print = (line: string): void => {
        if (!flags.json) process.stdout.write(`${line}\n`);
      };
      const release = stopVerifierOnSignal('verify');
      const through = flags.through ?? (flags.client || flags.udp ? 10 : LAST_STEP);
      const common = {
        through,
        timeouts: { answerMs: flags.timeout * 1000, startMs: flags.startTimeout * 1000 },
        onCheck: (result: VerifyReport['checks'][number]) => print(formatCheck(result, color)),
      };
      let report: VerifyReport;
      try {
        report = flags.udp
          ? await verifyUdpServer({
              ...common,
              ...(flags.target ? { target: flags.target } : { command }),
              ...(flags.port !== undefined ? { port: flags.port } : {}),
              ...(flags.expiry !== undefined ? { expiryMs: flags.expiry * 1000 } : {}),
              users,
              onStart: (info) => print(formatHeader({ mode: 'server', ...info, through, udp: true })),
            })
          : flags.client
            ? await verifyClient({
                ...common,
                command,
                ...(flags.port !== undefined ? { port: flags.port } : {}),
                ...(users[0] ? { user: users[0] } : {}),
                onStart: (info) => print(formatHeader({ mode: 'client', ...info, through })),
              })
            : await verifyServer({
                ...common,
                ...(flags.target ? { target: flags.target } : { command }),
                ...(flags.port !== undefined ? { port: flags.port } : {}),
                users,
                ...(flags.only ? { only: flags.only } : {}),
                onStart: (info) => print(formatHeader({ mode: 'server', ...info, through, ...(flags.only ? { only: flags.only } : {}) })),
              });
      } finally {
        release();
      }
      if (flags.json) {
        process.stdout.write(`${renderJson(report)}\n`);
      } else {
        const failure = formatFailure(report, color);
        if (failure) print(failure);
        print(formatSummary(report, color));
        const leftBehind = formatLeftBehind(report);
        if (leftBehind) print(leftBehind);
      }
      if (!report.passed) process.exitCode = 1;
    });
}
