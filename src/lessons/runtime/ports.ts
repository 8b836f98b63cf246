/**
 * The ports a README shows. A real run uses random free ports; READMEs, transcripts and the
 * scripted users' expectations speak of the ones a learner types.
 */

/** The ports a learner uses when following a README: the server on 7070, the inspector on 7071. */
export const NOMINAL_SERVER_PORT = 7070;
export const NOMINAL_INSPECTOR_PORT = 7071;

/**
 * Replaces a run's real (random) port by the one the README uses, wherever a port shows up:
 * `127.0.0.1:<port>`, `127.0.0.1 <port>` (nc) and `PORT=<port>`.
 */
export function normalisePort(text: string, actual: number, nominal: number): string {
  return text.replaceAll(`127.0.0.1:${actual}`, `127.0.0.1:${nominal}`).replaceAll(`127.0.0.1 ${actual}`, `127.0.0.1 ${nominal}`).replaceAll(`PORT=${actual}`, `PORT=${nominal}`);
}

/** A run's real port, and the one the README shows instead. */
export interface PortRename {
  actual: number;
  nominal: number;
  /**
   * Whose terminals it applies to: the servers' (a node's own port), the users' (where they
   * connect to it), or everyone's (absent). Run without an inspector, both are one port.
   */
  side?: 'server' | 'users';
}
