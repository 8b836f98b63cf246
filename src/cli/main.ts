import { CliError, describeError } from './errors.ts';
import { buildProgram } from './program.ts';

// The one entry point of the `chatlab` command. Errors become one clear line and a non-zero
// exit; set CHATLAB_DEBUG=1 to see the stack trace as well.
try {
  await buildProgram().parseAsync(process.argv);
} catch (error) {
  process.stderr.write(`chatlab: ${describeError(error)}\n`);
  if (process.env.CHATLAB_DEBUG) console.error(error);
  process.exit(error instanceof CliError ? error.exitCode : 1);
}
