/**
 * The run-time picture of chatlab for the Architecture page: which process talks to which, and
 * over what. Drawn by docs-architecture.ts; the module picture next to it is read from the code.
 */
import type { Graph } from './docs-architecture.ts';

/** Who talks to whom when you run chatlab (layer 0 at the bottom). */
export const RUNTIME_GRAPH: Graph = {
  nodes: [
    { id: 'client', label: 'chat client', detail: 'chatlab chat · lessons · nc', layer: 2 },
    { id: 'verifier', label: 'verifier', detail: 'chatlab verify', layer: 2 },
    { id: 'inspector', label: 'inspector (TCP proxy)', detail: 'chatlab inspect', layer: 1 },
    { id: 'trace', label: 'recorded trace', detail: 'trace.jsonl', layer: 0, order: 0 },
    { id: 'server', label: 'chat server', detail: 'chatlab server · yours', layer: 0, order: 1 },
  ],
  edges: [
    { from: 'client', to: 'inspector', label: 'chatlab/1 over TCP' },
    { from: 'inspector', to: 'server', label: 'same bytes, forwarded' },
    { from: 'inspector', to: 'trace', label: '--record' },
    { from: 'verifier', to: 'server', label: 'scripted clients' },
  ],
};
