/** The protocol name and version every server announces in `hello`. */
export const PROTOCOL = 'chatlab/1';

/** Default TCP port of a chatlab/1 server. */
export const DEFAULT_PORT = 7070;

/** Largest frame on the wire, in bytes, newline included. */
export const MAX_FRAME_BYTES = 65_536;

/** A user name: 1–32 characters of A–Z a–z 0–9 _ - */
export const USER_NAME_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;

/** Longest `say` text, counted in Unicode code points (what Python's `len(str)` counts). */
export const MAX_TEXT_CHARS = 4_000;

/** Longest password accepted in `login` or `register`, in code points. */
export const MAX_PASSWORD_CHARS = 1_024;

/** Shortest password a new account may have (`register`). */
export const MIN_NEW_PASSWORD_CHARS = 6;

/** A room name: 1–32 characters of a–z 0–9 _ - (lower case, so `Lobby` and `lobby` cannot both exist). */
export const ROOM_NAME_PATTERN = /^[a-z0-9_-]{1,32}$/;

/** The room every user is in after login. */
export const LOBBY = 'lobby';

/** Number of Unicode code points in a string (not UTF-16 units: 👋 counts as 1). */
export function codePointLength(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

/**
 * Deepest nesting of JSON objects and arrays in a frame; the frame object itself is level 1.
 * No chatlab/1 frame needs more than 3; the limit keeps recursive parsers and validators (Python's
 * `json.loads` raises RecursionError near 1,000 levels) away from a 65,536-byte bracket bomb.
 */
export const MAX_NESTING_DEPTH = 32;
