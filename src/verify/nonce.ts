/**
 * The `#xxxxxx` tags the verifier appends to the texts it sends, so a check can find its own
 * message again among everything else, even when the server mangled the rest of the text.
 */

/** A fresh tag: `#` and six random base-36 characters. */
export function nonce(): string {
  return `#${Math.random().toString(36).slice(2, 8)}`;
}

/** The tag at the end of a text made with {@link nonce}. */
export function nonceOf(text: string): string {
  return text.slice(text.lastIndexOf('#'));
}
