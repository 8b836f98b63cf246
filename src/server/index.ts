/**
 * The chatlab/1 reference server: `ChatServer` (sockets, sessions, limits), its account store
 * (SQLite + scrypt), message history, the hub that routes frames (rooms included), the file
 * relay, and the typed events other tools observe.
 */
export { ChatServer, SERVER_NAME, TLS_HANDSHAKE_TIMEOUT_MS, isLoopback, type ChatServerOptions } from './chat-server.ts';
export { defaultListenBacklog, FALLBACK_LISTEN_BACKLOG } from './listen-backlog.ts';
export { TlsCredentialsError, checkTlsCredentials, type TlsCredentials } from './tls-credentials.ts';
export { HistoryStore, type HistoryOptions } from './history.ts';
export { isPending, type Awaitable, type MessageStore, type StoredMessage, type NewMessage } from './message-store.ts';
export { UnavailableError } from './unavailable.ts';
export { FileRelay, type Refusal, type OfferAccepted, type FileRelayLimits } from './transfers.ts';
export { LoginThrottle } from './login-throttle.ts';
export { HISTORY_PAGE_DEFAULT } from './core.ts';
export { DEFAULT_SERVER_LIMITS, resolveLimits, type ServerLimits } from './limits.ts';
export type { OutputStats } from './output-budget.ts';
export { AccountStore, AccountError, checkNewAccount, type AccountStoreOptions } from './accounts.ts';
export { importAccounts, parseAccountLines, type ImportEntry, type ImportFailure, type ImportOptions, type ImportProgress, type ImportResult } from './account-import.ts';
export { DatabaseError, openDatabase, MIGRATIONS, SCHEMA_VERSION, MEMORY_DATABASE, type ChatDatabase, type OpenDatabaseOptions } from './database.ts';
export { DEFAULT_SCRYPT_PARAMS, hashPassword, verifyPassword, parseHash, type ScryptParams } from './password.ts';
export { Hub, type Member, type Audience, type HubOptions } from './hub.ts';
export { LocalRecipients, type RecipientSet, type MemberDirectory } from './recipients.ts';
export { SYSTEM_CLOCK, type Clock, type TimerHandle } from './clock.ts';
export type { Peer, PeerHandler, PeerState, CloseOptions } from './peer.ts';
export { ChatCore, type ChatCoreDeps } from './core.ts';
export {
  ChatServerEventStream,
  type ChatServerEvents,
  type ListeningEvent,
  type ConnectionEvent,
  type LoginEvent,
  type MessageEvent,
  type RoomEvent,
  type TransferEvent,
  type LogoutEvent,
  type LogoutReason,
  type DisconnectEvent,
  type ServerErrorEvent,
} from './events.ts';
export { DEFAULT_LEASE_MS, DEFAULT_SPOOL_FILE } from './cluster/defaults.ts';
