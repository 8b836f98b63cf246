import { CliError, describeError } from './errors.ts';
import { outputClosedEndsCommand } from './output-closed.ts';
import { programFor } from './command-loaders.ts';

// The one entry point of the `chatlab` command. Errors become one clear line and a non-zero
// exit; set CHATLAB_DEBUG=1 to see the stack trace as well.

function fail(error: unknown): never {
  process.stderr.write(`chatlab: ${describeError(error)}\n`);
  if (process.env.CHATLAB_DEBUG) console.error(error);
  process.exit(error instanceof CliError ? error.exitCode : 1);
}

// `chatlab … | head`: when the reader goes away, stop quietly instead of dying on EPIPE. The
// server and the inspector carry on instead (see output-closed.ts).
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (!outputClosedEndsCommand()) return;
  if (error.code === 'EPIPE') process.exit(0);
  fail(error);
});
// A long-running command's stray async error still ends as one line, never a stack trace.
process.on('uncaughtException', fail);
process.on('unhandledRejection', fail);

try {
  await (await programFor(process.argv)).parseAsync(process.argv);
} catch (error) {
  fail(error);
}
