/** The terminal chat UI (blessed). */
export { runTui, TuiError, type TuiOptions } from './app.ts';
