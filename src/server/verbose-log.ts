import type { ChatServerEventStream } from './events.ts';

/**
 * Writes one line per connection event (connect, login, logout, disconnect, errors) to `log`.
 * Built only from event payloads, which never hold a password (nor message texts).
 */
export function attachVerboseLog(events: ChatServerEventStream, log: (line: string) => void): void {
  const at = () => new Date().toISOString().slice(11, 23);
  events.on('connection', (e) => log(`${at()} #${e.id} connect from ${e.remote}`));
  events.on('login', (e) => log(`${at()} #${e.id} login ${e.user}`));
  events.on('logout', (e) => log(`${at()} #${e.id} logout ${e.user} (${e.reason})`));
  events.on('disconnect', (e) => log(`${at()} #${e.id} disconnect ${e.remote}${e.user ? ` (${e.user})` : ''}`));
  events.on('error', (e) => {
    const who = e.id === undefined ? 'server' : `#${e.id}`;
    log(`${at()} ${who} ${e.fatal ? 'error (closed)' : 'error'} ${e.code}: ${e.message}`);
  });
}
