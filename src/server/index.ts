/**
 * The chatlab/1 reference server: `ChatServer` (sockets, sessions, limits), its account store
 * (SQLite + scrypt), the hub that routes frames, and the typed events other tools observe.
 */
export { ChatServer, SERVER_NAME, type ChatServerOptions } from './chat-server.ts';
export { DEFAULT_SERVER_LIMITS, resolveLimits, type ServerLimits } from './limits.ts';
export { AccountStore, AccountError, type AccountStoreOptions } from './accounts.ts';
export { DatabaseError, openDatabase, MIGRATIONS, SCHEMA_VERSION, MEMORY_DATABASE, type ChatDatabase } from './database.ts';
export { DEFAULT_SCRYPT_PARAMS, hashPassword, verifyPassword, parseHash, type ScryptParams } from './password.ts';
export { Hub, type Member, type Audience } from './hub.ts';
export {
  ChatServerEventStream,
  type ChatServerEvents,
  type ListeningEvent,
  type ConnectionEvent,
  type LoginEvent,
  type MessageEvent,
  type LogoutEvent,
  type LogoutReason,
  type DisconnectEvent,
  type ServerErrorEvent,
} from './events.ts';
