/**
 * When a long-running command (`chatlab server`, `chatlab inspect`) should stop: SIGINT (Ctrl-C),
 * SIGTERM (systemd, Docker, kill), SIGHUP (the terminal was closed) — or, when npm started us,
 * the npm process going away.
 *
 * Why the last one: `npx chatlab …` runs `npm exec`, which starts `sh -c 'chatlab …'`, which
 * starts node. A SIGTERM sent to npm alone (systemd's `KillMode=mixed`/`process`, `docker stop`
 * on an image whose CMD is `npx …`, `kill <npm pid>`) is forwarded by npm to that `sh` only;
 * dash does not pass it on and dies, npm sees its child gone and kills itself with the same
 * signal, and node is left orphaned (re-parented to init), still serving, with nobody to stop it.
 * npm does not forward SIGHUP at all: npm dies, `sh` and node stay. Neither npm nor sh is ours
 * to change, so when npm is our ancestor (npm sets `npm_lifecycle_event`) we watch the chain that
 * started us: if our parent process changes (we were orphaned) or the npm process above us is
 * gone (on Linux, read from /proc), we stop exactly as on SIGTERM, within {@link PARENT_CHECK_MS}.
 * `npm run chatlab` and `npm start` `exec` node in their script, so there npm's forwarded signal
 * reaches node itself and npm waits for it; the watch only covers npm dying without forwarding
 * (SIGHUP, SIGKILL). A server started directly (`node bin/chatlab.js server &`) is never stopped
 * by its parent leaving: that is how daemons are started. In a container, prefer
 * `node bin/chatlab.js` as the command: npm as PID 1 exits right after its child, and the kernel
 * then kills everything left in the container without a signal we can catch.
 */
import { findNpmAncestor, isRunning } from './process-ancestry.ts';

/** Why a command stops: the signal received, or `parent_exited` (see the module comment). */
export type StopReason = NodeJS.Signals | 'parent_exited';

/** The signals that ask a long-running command to stop cleanly. */
export const STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/** How often the parent process id is checked while npm is an ancestor, in ms. */
export const PARENT_CHECK_MS = 200;

/** A pending stop request; see {@link waitForStopRequest}. */
export interface StopRequest {
  /** Resolves with the first reason to stop. */
  readonly reason: Promise<StopReason>;
  /**
   * Called on every further stop signal after the first one (a second Ctrl-C): the command
   * decides whether that means "stop now". Replaces any earlier callback.
   */
  onRepeat(callback: (signal: NodeJS.Signals) => void): void;
  /** Removes the signal handlers and the parent watch. */
  dispose(): void;
}

/** Whether npm (`npm run`, `npm start`, `npx`, `npm exec`) started this process or an ancestor of it. */
export function startedByNpm(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.npm_lifecycle_event !== undefined && env.npm_lifecycle_event !== '';
}

/**
 * Starts listening for a stop request. Signals stay handled (so a second one does not kill the
 * process mid-shutdown) until `dispose()`.
 */
export function waitForStopRequest(options: { watchParent?: boolean } = {}): StopRequest {
  let first: ((reason: StopReason) => void) | undefined;
  let repeat: ((signal: NodeJS.Signals) => void) | undefined;
  let stopped = false;
  const reason = new Promise<StopReason>((resolve) => (first = resolve));
  const request = (why: StopReason): void => {
    if (!stopped) {
      stopped = true;
      first?.(why);
    } else if (why !== 'parent_exited') {
      repeat?.(why);
    }
  };
  const onSignal = (signal: NodeJS.Signals): void => request(signal);
  for (const signal of STOP_SIGNALS) process.on(signal, onSignal);
  let watch: NodeJS.Timeout | undefined;
  if (options.watchParent ?? startedByNpm()) {
    const parent = process.ppid;
    const npm = findNpmAncestor();
    watch = setInterval(() => {
      if (process.ppid !== parent || (npm && !isRunning(npm))) {
        clearInterval(watch);
        request('parent_exited');
      }
    }, PARENT_CHECK_MS);
    // The watch alone must never keep the process alive.
    watch.unref();
  }
  return {
    reason,
    onRepeat: (callback) => (repeat = callback),
    dispose() {
      for (const signal of STOP_SIGNALS) process.off(signal, onSignal);
      if (watch) clearInterval(watch);
    },
  };
}

/** How a stop reason reads in a status line: `SIGTERM`, or `npm exited`. */
export function describeStopReason(reason: StopReason): string {
  return reason === 'parent_exited' ? 'the npm process that started it exited' : reason;
}
