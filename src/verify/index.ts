/**
 * chatlab verify: the stage tester. `verifyServer` checks anyone's chatlab/1 server step by step
 * (starting it, or connecting to a running one); `verifyClient` plays the server and checks a
 * client. Both stop at the first failing check and return a report that says exactly where and
 * why, with the frames exchanged so far; the reporters print it for people or machines.
 */
export { verifyServer, SERVER_CHECKS } from './server/verify-server.ts';
export { verifyClient } from './client/verify-client.ts';
export { CLIENT_CHECKS } from './client/checks.ts';
export { renderText, formatHeader, formatCheck, formatFailure, formatLeftBehind, formatSummary, stepsLabel } from './report/text.ts';
export { renderJson } from './report/json.ts';
export { renderDiagram, transcriptDiagram, type DiagramOptions, type TranscriptDiagram } from './report/diagram.ts';
export { byteDiff, showBytes, type ByteDiff } from './bytes.ts';
export { HINTS, type FailureReport } from './failure.ts';
export { EXTENSION_STEPS, LAST_STEP, featureOf, stepName, type ExtensionStep, type ExtensionStepNumber, type VerifyStep } from './steps.ts';
export { freePort, killAllSupervised, OUTPUT_LIMITS, type OutputCut } from './supervisor.ts';
export { FLOOD_LIMIT, INBOX_LIMITS } from './probe.ts';
export {
  DEFAULT_TIMEOUTS,
  type Account,
  type CheckResult,
  type ProcessReport,
  type Timeouts,
  type VerifyClientOptions,
  type VerifyReport,
  type VerifyServerOptions,
} from './types.ts';
export { TRANSCRIPT_LIMITS, type TranscriptEventJson, type TranscriptOmitted } from './transcript.ts';
export { verifyUdpServer, type VerifyUdpServerOptions } from './udp/verify-udp-server.ts';
export { UDP_CHECKS } from './udp/checks.ts';
export { DEFAULT_UDP_EXPIRY_MS } from './udp/context.ts';
