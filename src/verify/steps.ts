import { STEPS, type Feature, type StepNumber } from '../protocol/index.ts';

/** A step of the verifier beyond the core ten: one extension group each. */
export type ExtensionStepNumber = 11 | 12 | 13 | 14 | 15 | 16 | 17;

/** Any step the verifier checks: the core's 1–10, or an extension group 11–17. */
export type VerifyStep = StepNumber | ExtensionStepNumber;

/** An extension group: checked only when the server's `hello` lists its feature. */
export interface ExtensionStep {
  step: ExtensionStepNumber;
  /** The feature name in `hello.features`; also the group's name for `--only`. */
  feature: Feature;
}

/**
 * The extension groups, in the order they run (after step 10). Numbered so that `--through N`
 * keeps meaning "steps 1..N" for lessons 1–10 and extends naturally past them.
 */
export const EXTENSION_STEPS: readonly ExtensionStep[] = [
  { step: 11, feature: 'register' },
  { step: 12, feature: 'who' },
  { step: 13, feature: 'ping' },
  { step: 14, feature: 'private' },
  { step: 15, feature: 'rooms' },
  { step: 16, feature: 'history' },
  { step: 17, feature: 'files' },
];

/** The last step of all: a server run checks 1..LAST_STEP by default. */
export const LAST_STEP: ExtensionStepNumber = 17;

/** Name of a step ("relay", or the feature of an extension group: "rooms"). */
export function stepName(step: VerifyStep): string {
  return STEPS[step - 1]?.name ?? EXTENSION_STEPS.find((s) => s.step === step)?.feature ?? String(step);
}

/** The feature an extension step checks, or undefined for a core step. */
export function featureOf(step: VerifyStep): Feature | undefined {
  return EXTENSION_STEPS.find((s) => s.step === step)?.feature;
}
