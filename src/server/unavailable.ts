/**
 * A shared store the rules depend on cannot be reached (a cluster's Redis): the request changed
 * nothing and may be retried. Its message is written for the client ("… is unreachable").
 */
export class UnavailableError extends Error {}

/**
 * A request reached the shared store, or may have, and its answer was lost (the connection broke,
 * or the command timed out): it may have taken effect, or not. A write retried after it must be
 * one the store can recognise (a cluster record carries a token for that).
 */
export class OutcomeUnknownError extends UnavailableError {}
