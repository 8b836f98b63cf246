/**
 * The chatlab/1 client library: `ChatClient` (connect, login, say, who, ping, quit) and its
 * errors. No UI here; the line mode (./line-mode.ts) and the TUI build on its events.
 */
export { ChatClient, type ChatClientOptions, type ChatClientEvents, type ClientState } from './chat-client.ts';
export { ProtocolError, ClientError, type ClientErrorCode } from './errors.ts';
