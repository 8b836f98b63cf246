/**
 * The browser build's stand-in for node:path: src/protocol/files.ts imports `join` for
 * `uniqueDownloadPath`, which the page never calls (a browser saves through a download link).
 * Aliased in app-build.ts so the page reuses the protocol's file constants and name sanitising.
 */
export function join(): never {
  throw new Error('node:path is not available in the browser');
}
