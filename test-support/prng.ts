/**
 * A tiny seeded PRNG (mulberry32, uniform in [0, 1)), so a run's random traffic or bytes can be
 * replayed from the seed it prints: the very one the UDP tap draws its faults from.
 */
export { seededRandom as prng } from '../src/inspector/udp/seeded-random.ts';
