import type { ChatServerEventStream } from './events.ts';

/**
 * Writes one line per connection event (connect, login, logout, disconnect, errors), room change
 * and file-transfer step to `log`.
 * Built only from event payloads, which never hold a password (nor message texts, nor file names).
 */
export function attachVerboseLog(events: ChatServerEventStream, log: (line: string) => void): void {
  const at = () => new Date().toISOString().slice(11, 23);
  events.on('connection', (e) => log(`${at()} #${e.id} connect from ${e.remote}`));
  events.on('login', (e) => log(`${at()} #${e.id} login ${e.user}`));
  events.on('room', (e) => log(`${at()} #${e.id} ${e.user} ${e.action === 'join' ? 'joined' : 'left'} ${e.room}`));
  events.on('transfer', (e) => {
    const detail = e.action === 'offer' ? ` to ${e.users?.join(', ')} (${e.size} bytes)` : e.user ? ` ${e.user}` : '';
    const outcome = e.ok !== undefined ? (e.ok ? ' ok' : ' failed') : '';
    log(`${at()} transfer ${e.transfer} from ${e.from}: ${e.action}${detail}${outcome}${e.reason ? ` (${quoteReason(e.reason)})` : ''}`);
  });
  events.on('logout', (e) => log(`${at()} #${e.id} logout ${e.user} (${e.reason})`));
  events.on('disconnect', (e) => log(`${at()} #${e.id} disconnect ${e.remote}${e.user ? ` (${e.user})` : ''}`));
  events.on('error', (e) => {
    const who = e.id === undefined ? 'server' : `#${e.id}`;
    log(`${at()} ${who} ${e.fatal ? 'error (closed)' : 'error'} ${e.code}: ${e.message}`);
  });
}

/** A reason may be a client's free text: quoted (newlines escaped) unless it is a plain code. */
function quoteReason(reason: string): string {
  return /^[\w-]{1,40}$/.test(reason) ? reason : JSON.stringify(reason.slice(0, 80));
}
