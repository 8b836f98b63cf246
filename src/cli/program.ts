import type { Command } from 'commander';
import { registerServerCommand } from './commands/server.ts';
import { registerUsersCommand } from './commands/users.ts';
import { registerClientCommand } from './commands/client.ts';
import { registerVerifyCommand } from './commands/verify.ts';
import { registerInspectCommand } from './commands/inspect.ts';
import { registerLessonCommand } from './commands/lesson.ts';
import { registerDemoCommand } from './commands/demo.ts';
import { registerWebCommand } from './commands/web.ts';
import { createRootCommand } from './root-command.ts';

/**
 * Builds the whole `chatlab` command tree without parsing anything, so the docs site can
 * generate the CLI reference from the very same definitions. (The CLI itself loads only the
 * command it runs: see command-loaders.ts.)
 */
export function buildProgram(): Command {
  const program = createRootCommand();
  // Each subcommand lives in its own module under ./commands and registers itself here.
  registerServerCommand(program);
  registerUsersCommand(program);
  registerClientCommand(program);
  registerVerifyCommand(program);
  registerInspectCommand(program);
  registerLessonCommand(program);
  registerDemoCommand(program);
  registerWebCommand(program);
  return program;
}
