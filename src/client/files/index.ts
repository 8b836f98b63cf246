/**
 * File transfer, client side: offer → accept/decline → chunks (≤ 32 KiB, a window of 8 per
 * receiver) → end → SHA-256 verdict. Receivers write only inside their download folder.
 */
export { FileTransfers, attachFileTransfers, type FileTransfersOptions, type FileTransfersEvents } from './file-transfers.ts';
export { TransferError, type FileLink } from './file-link.ts';
export { formatBytes, percent } from './bytes.ts';
export { hashFile } from './hash-file.ts';
export type * from './transfer-events.ts';
