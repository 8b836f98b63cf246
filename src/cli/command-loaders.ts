import type { Command } from 'commander';
import { createRootCommand } from './root-command.ts';

/** Adds one subcommand to the program. */
type Register = (program: Command) => void;

/**
 * Each subcommand's module, loaded only when that command runs. Why: importing every command
 * made `chatlab server` load the client's terminal UI (blessed), markdown rendering (marked),
 * the inspector and the verifier it never uses: about 30 MiB of resident memory for nothing.
 * Same names and order as in program.ts (a test checks it).
 */
export const COMMAND_LOADERS: Readonly<Record<string, () => Promise<Register>>> = {
  server: async () => (await import('./commands/server.ts')).registerServerCommand,
  users: async () => (await import('./commands/users.ts')).registerUsersCommand,
  client: async () => (await import('./commands/client.ts')).registerClientCommand,
  verify: async () => (await import('./commands/verify.ts')).registerVerifyCommand,
  inspect: async () => (await import('./commands/inspect.ts')).registerInspectCommand,
  lesson: async () => (await import('./commands/lesson.ts')).registerLessonCommand,
  demo: async () => (await import('./commands/demo.ts')).registerDemoCommand,
  web: async () => (await import('./commands/web.ts')).registerWebCommand,
};

/**
 * The program to parse `argv` with: when `argv` names a subcommand, the root command with that
 * subcommand alone (its module loaded now); otherwise (help, version, a typo that needs
 * suggestions) the whole tree from program.ts.
 */
export async function programFor(argv: readonly string[]): Promise<Command> {
  const name = argv[2];
  const load = name !== undefined && Object.hasOwn(COMMAND_LOADERS, name) ? COMMAND_LOADERS[name] : undefined;
  if (!load) return (await import('./program.ts')).buildProgram();
  const program = createRootCommand();
  (await load())(program);
  return program;
}
