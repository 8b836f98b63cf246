/**
 * What the file-transfer module reports to a UI: one `transfer` event per step, as a union keyed
 * on `kind`. The line mode prints each as one `~ …` line; the TUI shows them in its panes.
 */

/** Which way the bytes go, seen from this client. */
export type TransferDirection = 'send' | 'receive';

/** Where a file goes: one user, or the other members of a room. */
export type TransferTarget = { to: string; room?: undefined } | { room: string; to?: undefined };

/** Someone offers this user a file; answer with accept or decline. */
export interface IncomingOfferEvent {
  kind: 'incoming';
  transfer: string;
  from: string;
  /** Set when the offer went to a room. */
  room?: string;
  name: string;
  size: number;
  sha256: string;
}

/** This user's offer is out; the server gave it `transfer`. */
export interface OfferedEvent {
  kind: 'offered';
  transfer: string;
  name: string;
  size: number;
  target: TransferTarget;
}

/** (sender) `user` accepted or declined the offer. */
export interface AnswerEvent {
  kind: 'accepted' | 'declined';
  transfer: string;
  name: string;
  user: string;
}

/** (receiver) This user accepted: the file is being written to a temporary file in `directory`. */
export interface ReceivingEvent {
  kind: 'receiving';
  transfer: string;
  name: string;
  from: string;
  directory: string;
}

/** Bytes moved so far: sent and acknowledged (sender), or written (receiver). */
export interface ProgressEvent {
  kind: 'progress';
  transfer: string;
  name: string;
  direction: TransferDirection;
  bytes: number;
  size: number;
  /** Whole percent. */
  percent: number;
}

/** (receiver) Size and SHA-256 matched: the file is saved at `path`. */
export interface ReceivedEvent {
  kind: 'received';
  transfer: string;
  name: string;
  from: string;
  path: string;
  size: number;
}

/** (sender) `user` checked the file: `ok`, or why not. */
export interface ResultEvent {
  kind: 'delivered' | 'rejected';
  transfer: string;
  name: string;
  user: string;
  reason?: string;
}

/**
 * The transfer stopped for this client (or, for a sender, for one room member `user`): declined
 * by everyone, cancelled, interrupted (connection lost), or the file failed the check. A receiver
 * never keeps a partial file: its temporary file is deleted.
 */
export interface FailedEvent {
  kind: 'failed';
  transfer: string;
  name: string;
  direction: TransferDirection;
  reason: string;
  /** Whether it was cut short by a lost connection or a cancel (vs. refused or a failed check). */
  interrupted: boolean;
  /** The room member it failed for (sender of a room transfer), or who cancelled it. */
  user?: string;
  /**
   * Set when the other side stopped it: who (a `file_cancel` from the server names the party that
   * cancelled or left; `reason` is then its reason or how it left: `quit`, `connection_lost`, …).
   * Absent when this client stopped it (`reason` says why) or the file failed the check.
   */
  cancelledBy?: string;
  /** (receiver) The offer was withdrawn before this user answered it: nothing was written. */
  withdrawn?: boolean;
}

/** (sender) Every recipient has answered and finished: nothing more will happen. */
export interface CompleteEvent {
  kind: 'complete';
  transfer: string;
  name: string;
  /** How many recipients it was offered to. */
  offered: number;
  /** How many recipients accepted it. */
  accepted: number;
  /** How many recipients got the file intact. */
  delivered: number;
}

/** Any step of a transfer. */
export type TransferEvent = IncomingOfferEvent | OfferedEvent | AnswerEvent | ReceivingEvent | ProgressEvent | ReceivedEvent | ResultEvent | FailedEvent | CompleteEvent;
