/**
 * The chatlab/1 client library: `ChatClient` (one connection: login, say, private messages,
 * rooms, history, file frames), `ChatSession` (reconnects with backoff and `since`), the file
 * transfers, and the command parser both UIs share. No UI here: the line mode (./line-mode.ts)
 * and the TUI (./tui/) build on its events.
 */
export {
  ChatClient,
  HELLO_TIMEOUT_MS,
  type ChatClientOptions,
  type ClientTlsOptions,
  type ChatClientEvents,
  type ClientState,
  type SayResult,
  type HistoryQuery,
  type HistoryPage,
  type LoginOptions,
  type FileServerFrame,
  type FileClientFrame,
} from './chat-client.ts';
export { ChatSession, type ChatSessionOptions, type ChatSessionEvents, type SessionState, type ReconnectInfo } from './session.ts';
export { DEFAULT_BACKOFF, backoffDelay, type BackoffPolicy } from './backoff.ts';
export { ProtocolError, ClientError, type ClientErrorCode } from './errors.ts';
export { parseCommand, COMMAND_HELP, type ChatCommand } from './commands.ts';
export * from './files/index.ts';
