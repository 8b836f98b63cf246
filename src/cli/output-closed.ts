/**
 * What a closed standard output means. For a one-shot command (`chatlab users list | head`) it
 * ends the command quietly. A server or the inspector prints only status lines: its reader going
 * away (`chatlab server | head -1`, a closed terminal, a log pipe that died) must neither kill it
 * nor cut its shutdown short before every client got `bye`.
 */
let endsCommand = true;

/** Called by long-running commands: from now on, errors of standard output are ignored. */
export function keepRunningWhenOutputCloses(): void {
  endsCommand = false;
}

/** Whether an error of standard output (EPIPE, EIO) should end the command. */
export function outputClosedEndsCommand(): boolean {
  return endsCommand;
}
