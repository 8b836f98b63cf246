/**
 * A shared store the rules depend on cannot be reached (a cluster's Redis): the request changed
 * nothing and may be retried. Its message is written for the client ("… is unreachable").
 */
export class UnavailableError extends Error {}
