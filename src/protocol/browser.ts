/**
 * The face of the protocol for a browser page: the rules and constants the web chat shows and
 * checks. The page build aliases the one Node built-in behind it (`node:path` in files.ts, used
 * only by the save-path helpers a page never calls), so this list stays what a page may use.
 */
export { LOBBY, MAX_TEXT_CHARS, ROOM_NAME_PATTERN } from './limits.ts';
export { STEPS, type Step, type StepNumber } from './steps.ts';
export { FILE_WINDOW_CHUNKS, MAX_FILE_CHUNK_BYTES, sanitizeFileName } from './files.ts';
export type { Direction } from './frames.ts';
