import { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { registerServerCommand } from './commands/server.ts';
import { registerUsersCommand } from './commands/users.ts';
import { registerClientCommand } from './commands/client.ts';
import { registerVerifyCommand } from './commands/verify.ts';
import { registerInspectCommand } from './commands/inspect.ts';
import { registerLessonCommand } from './commands/lesson.ts';
import { registerDemoCommand } from './commands/demo.ts';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

/**
 * Builds the whole `chatlab` command tree without parsing anything, so the docs site can
 * generate the CLI reference from the very same definitions.
 */
export function buildProgram(): Command {
  const program = new Command('chatlab')
    .description('Learn network programming by building a TCP chat: server, client, live protocol inspector and verifier.')
    .version(pkg.version, '-V, --version', 'print the chatlab version')
    .showSuggestionAfterError()
    .configureHelp({ sortSubcommands: false });
  // Each subcommand lives in its own module under ./commands and registers itself here.
  registerServerCommand(program);
  registerUsersCommand(program);
  registerClientCommand(program);
  registerVerifyCommand(program);
  registerInspectCommand(program);
  registerLessonCommand(program);
  registerDemoCommand(program);
  return program;
}
