import { killAllSupervised } from '../verify/index.ts';

/**
 * Stops the verifier's child processes on Ctrl-C or SIGTERM while `chatlab <command>` runs it:
 * the programs under test run in their own process groups, out of reach of the terminal's Ctrl-C,
 * so they are stopped here before leaving (one line on stderr, exit code 130).
 * Returns the function that removes the handlers again.
 */
export function stopVerifierOnSignal(command: string): () => void {
  const onSignal = (): void => {
    killAllSupervised();
    process.stderr.write(`\nchatlab ${command}: interrupted; stopped what it started.\n`);
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
}
