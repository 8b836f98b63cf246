import type { FileClientFrame } from '../chat-client.ts';

/**
 * What the file-transfer module needs from a connection: a {@link ChatClient} or a
 * {@link ChatSession} fits. Kept this small so the transfers can be tested with anything.
 */
export interface FileLink {
  /** The logged-in user (to leave oneself out of a room's recipients). */
  readonly user: string | undefined;
  /** Sends `file_offer`; resolves with the server's transfer id and, if it says, the recipients. */
  offerFile(offer: { to?: string; room?: string; name: string; size: number; sha256: string }): Promise<{ transfer: string; users?: string[] }>;
  /** Sends a frame that has no direct answer; throws when it cannot. */
  sendFileFrame(frame: FileClientFrame): void;
  /** Members of a room (whose answers to wait for, when the server's `ok` does not list them). */
  who(room?: string): Promise<string[]>;
  /**
   * A round trip (`ping` → `pong`): once it is answered, the server has answered every frame
   * sent before it. Rejects when not connected or the server has no `ping`.
   */
  ping(): Promise<unknown>;
}

/** A file-transfer problem on this side: no such file, nothing to accept, a bad target, … */
export class TransferError extends Error {
  constructor(
    readonly code: 'not_found' | 'not_a_file' | 'unreadable' | 'no_offer' | 'unknown_transfer' | 'too_large' | 'not_connected',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'TransferError';
  }
}
