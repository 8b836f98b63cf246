/**
 * chatlab/1, the one pure codec: frame types, encoding, streaming decoding, validation and the
 * 10-step map. No sockets here; the server, client, inspector and verifier all build on it.
 */
export * from './limits.ts';
export * from './frames.ts';
export * from './encode.ts';
export * from './line-splitter.ts';
export * from './decoder.ts';
export * from './validate.ts';
export * from './steps.ts';
export * from './files.ts';
export * from './user-pages.ts';
export * from './code-point-order.ts';
export * from './datagram.ts';
