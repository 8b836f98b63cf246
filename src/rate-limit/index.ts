/**
 * Rate limiting shared by the server (each client's frame rate, the login throttle) and the
 * client (the line mode paces pasted lines under the server's limit): a token bucket on an
 * injectable monotonic clock. No I/O, no timers.
 */
export { PERFORMANCE_CLOCK, TokenBucket, type MonotonicClock } from './token-bucket.ts';
