/**
 * How the diagram components word a row: its step's name and its time of day. Shared by
 * SequenceDiagram.vue (arrow titles) and RowDetail.vue (the detail panel).
 */
import { STEPS } from '../../../protocol/browser.ts';

/** `step 4: login`, or '' for a row of no step. */
export function stepName(step: number | null): string {
  return step === null ? '' : `step ${step}: ${STEPS[step - 1]?.name ?? ''}`;
}

/** A row's time as the reader's clock shows it, to the millisecond: `14:03:07.042`. */
export function rowTime(t: number): string {
  const d = new Date(t);
  return `${d.toLocaleTimeString([], { hour12: false })}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}
