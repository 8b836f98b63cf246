import { STEPS } from '../../protocol/index.ts';
import { painter, type Painter } from '../../terminal/index.ts';
import { EXTENSION_STEPS, stepName } from '../steps.ts';
import type { ByteDiff } from '../bytes.ts';
import type { CheckResult, VerifyReport } from '../types.ts';
import { renderDiagram } from './diagram.ts';

const stepLabel = (step: number, name: string): string => `${String(step).padStart(2)} ${name}`;
const STEP_LABEL_WIDTH = Math.max(...STEPS.map((s) => stepLabel(s.step, s.name).length), ...EXTENSION_STEPS.map((s) => stepLabel(s.step, s.feature).length));

/** The first line of a run: what is verified, where. */
export function formatHeader(info: { mode: 'server' | 'client'; host: string; port: number; command?: string[]; through: number; only?: string[]; udp?: boolean }): string {
  const steps = `${stepsLabel(info.through, info.only)}${info.udp ? ', over UDP' : ''}`;
  if (info.mode === 'client') {
    return `chatlab verify --client: playing the server on ${info.host}:${info.port} for ${info.command?.join(' ') ?? 'the client'} (${steps}; Ctrl-C to stop)`;
  }
  return info.command
    ? `chatlab verify: ${info.command.join(' ')} on ${info.host}:${info.port} (${steps}; Ctrl-C to stop)`
    : `chatlab verify: the server at ${info.host}:${info.port} (${steps}; Ctrl-C to stop)`;
}

/** "step 1", "steps 1–7", or past 10 "steps 1–10 + extensions 11–17" / "steps 1–10 + private, rooms". */
export function stepsLabel(through: number, only?: string[]): string {
  if (through === 1) return 'step 1';
  if (through <= 10) return `steps 1–${through}`;
  if (only) return `steps 1–10 + ${only.join(', ')}`;
  return through === 11 ? 'steps 1–10 + extension 11' : `steps 1–10 + extensions 11–${through}`;
}

/** One line per check: ✓ or ✗ (· for an extension not run), the step, what was checked. */
export function formatCheck(result: CheckResult, color = false): string {
  const paint = painter(color);
  const mark = result.status === 'passed' ? paint('green', '✓') : result.status === 'failed' ? paint('red', '✗') : paint('gray', '·');
  const step = stepLabel(result.step, result.stepName).padEnd(STEP_LABEL_WIDTH);
  if (result.status === 'not_run') return ` ${mark} ${paint('gray', step)}  ${paint('gray', `not run: ${result.title}  (${result.detail ?? 'not advertised'})`)}`;
  const detail = result.detail ? paint('gray', `  (${result.detail})`) : '';
  return ` ${mark} ${paint('gray', step)}  ${result.title}${detail}`;
}

function kibibytes(chars: number): string {
  return chars < 1024 ? `${chars} characters` : `${Math.round(chars / 1024).toLocaleString('en-US')} KiB`;
}

function indent(lines: string[], by = '     '): string[] {
  return lines.map((line) => (line ? by + line : line));
}

function formatDiff(diff: ByteDiff, paint: Painter): string[] {
  const caret = (column: number): string => `${' '.repeat(10 + column)}${paint('red', '^')}`;
  return [
    `${diff.label}:`,
    `expected  ${diff.expected}`,
    `received  ${diff.received}`,
    `${caret(diff.receivedColumn)} first differing byte: byte ${diff.firstDifferentByte} (of ${diff.expectedBytes} expected, ${diff.receivedBytes} received)`,
    `bytes     expected ${diff.expectedHex}`,
    `          received ${diff.receivedHex}`,
  ];
}

/** The details of the failed check: what happened, expected vs received, the hint, the frames so far, the program's output. */
export function formatFailure(report: VerifyReport, color = false): string {
  const failed = report.checks.find((c) => c.status === 'failed');
  if (!failed?.failure) return '';
  const paint = painter(color);
  const f = failed.failure;
  const lines: string[] = ['', paint('bold', f.summary)];
  if (f.expected !== undefined) lines.push(`expected  ${f.expected}`);
  if (f.received !== undefined) lines.push(`received  ${f.received}`);
  if (f.diff) lines.push('', ...formatDiff(f.diff, paint));
  lines.push('', `${paint(['bold', 'yellow'], 'hint:')} ${f.hint}`);
  if (report.transcript.length) {
    const diagram = renderDiagram(report.transcript, {
      mode: report.mode,
      color,
      ...(f.culprit !== undefined ? { culprit: f.culprit } : {}),
      ...(report.transcriptOmitted ? { omitted: report.transcriptOmitted } : {}),
    });
    lines.push('', paint('bold', 'frames so far:'), ...diagram);
  }
  const proc = report.process;
  if (proc) {
    const who = report.mode === 'server' ? 'server' : 'client';
    const status = proc.spawnError
      ? `it could not start: ${proc.spawnError}`
      : proc.exitedEarly
        ? proc.signal
          ? `it was killed by ${proc.signal} during the run`
          : `it exited by itself, with code ${proc.exitCode}`
        : 'it was still running; the verifier stopped it';
    lines.push('', paint('bold', `${who} output (${status}):`));
    const output = proc.output.slice(-40);
    const earlier = proc.output.length - output.length + (proc.outputCut?.lines ?? 0);
    if (earlier > 0) lines.push(`… ${earlier.toLocaleString('en-US')} earlier lines not shown`);
    if (proc.outputCut?.chars) lines.push(`(${kibibytes(proc.outputCut.chars)} of output not kept: the verifier keeps the last lines, and the start of long ones)`);
    if (!output.length) lines.push('(it printed nothing)');
    for (const line of output) lines.push(`${paint(line.stream === 'stderr' ? 'red' : 'cyan', `[${who} ${line.stream}]`)} ${line.text}`);
  }
  return indent(lines).join('\n');
}

/** The last line: passed, or where it stopped. */
export function formatSummary(report: VerifyReport, color = false): string {
  const paint = painter(color);
  const { passed, failed, skipped } = report.counts;
  const time = `${(report.durationMs / 1000).toFixed(1)} s`;
  const notRun = report.extensions?.notAdvertised.length ? ` Not run (not in hello.features): ${report.extensions.notAdvertised.join(', ')}.` : '';
  const checked = report.extensions?.checked.length ? ` Extensions checked: ${report.extensions.checked.join(', ')}.` : '';
  if (report.passed) return paint(['bold', 'green'], `\nAll ${passed} checks of ${stepsLabel(report.through, report.only)} passed (${time}).${checked}${notRun}`);
  const step = report.failedStep;
  const name = step ? stepName(step) : '';
  return paint(
    ['bold', 'red'],
    `\nStopped at step ${step} (${name}): ${passed} passed, ${failed} failed, ${skipped} not run${report.counts.notRun ? `, ${report.counts.notRun} not advertised` : ''} (${time}). Fix it and run again.`,
  );
}

/**
 * The accounts the run registered and could not remove (chatlab/1 has no way to delete one), or
 * '' when it registered none: a run against a server that keeps its accounts must not leave them
 * behind unsaid.
 */
export function formatLeftBehind(report: VerifyReport): string {
  const names = report.registered ?? [];
  if (names.length === 0) return '';
  const count = names.length === 1 ? '1 account' : `${names.length} accounts`;
  return `Left on the server: ${count} this run registered (${names.join(', ')}). chatlab/1 cannot delete accounts: they stay if the server keeps its accounts (on a chatlab server: chatlab users remove <name> --db <file>).`;
}

/** The whole human-readable report (the CLI prints the same pieces as they come). */
export function renderText(report: VerifyReport, color = false): string {
  const parts = [
    formatHeader({
      mode: report.mode,
      host: report.address.host,
      port: report.address.port,
      through: report.through,
      ...(report.only ? { only: report.only } : {}),
      ...(report.process ? { command: report.process.command } : {}),
    }),
    ...report.checks.filter((c) => c.status !== 'skipped').map((c) => formatCheck(c, color)),
  ];
  const failure = formatFailure(report, color);
  if (failure) parts.push(failure);
  parts.push(formatSummary(report, color));
  const leftBehind = formatLeftBehind(report);
  if (leftBehind) parts.push(leftBehind);
  return parts.join('\n');
}
