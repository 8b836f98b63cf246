// Entry of the inspector's proxy thread. Worker threads do not inherit tsx's loader, so this
// small JavaScript shim registers it before loading the TypeScript worker (proxy-worker.ts).
import { register } from 'tsx/esm/api';

register();
await import('./proxy-worker.ts');
