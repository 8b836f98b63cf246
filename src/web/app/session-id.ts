/**
 * A random id tying this tab's chat socket and diagram socket together on the server. Made with
 * getRandomValues, which (unlike randomUUID) exists outside secure contexts too (a --host address).
 */
export function newSessionId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** ws:// (or wss://) URL of a path on the server that served this page. */
export function socketUrl(path: string, session: string): string {
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  return `${scheme}://${location.host}${path}?session=${session}`;
}
