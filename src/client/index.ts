/**
 * The chatlab/1 client library: `ChatClient` (one connection: login, say, private messages,
 * rooms, history, file frames), `ChatSession` (reconnects with backoff and `since`), the file
 * transfers, and the command parser both UIs share; and the line mode (`runLineMode`, plain
 * lines on stdin/stdout) built on its events. The full-screen TUI builds on them too but is a face
 * of its own (./tui/index.ts), so that only what draws it loads blessed.
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
export { runLineMode, LineModeError, LINE_MODE_PACE, type LineModeOptions } from './line-mode.ts';
