/**
 * Turns recorded runs into the site's sequence diagrams, with the inspector's own exporter
 * (`chatlab inspect export <trace> --format svg -o <file>`), called in-process through the same
 * commander tree the `chatlab` command runs. No diagram on the site is drawn by hand.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { CommanderError, type Command } from 'commander';
import { readTrace } from '../src/inspector/index.ts';
import { recordedDiagram } from '../src/web/index.ts';

/** Thrown when the exporter is missing or refuses a trace. */
export class DiagramExportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DiagramExportError';
  }
}

/** Finds a subcommand by its path, e.g. ['inspect', 'export']. */
function findCommand(program: Command, path: string[]): Command | undefined {
  let command: Command | undefined = program;
  for (const name of path) command = command?.commands.find((c) => c.name() === name || c.aliases().includes(name));
  return command;
}

/** Whether `chatlab inspect export` exists in this tree. */
export function hasExporter(program: Command): boolean {
  return findCommand(program, ['inspect', 'export']) !== undefined;
}

/** What the exporter must have written for each format (a cheap sanity check of the file). */
const EXPECTED_OUTPUT = { svg: /<svg[\s>]/, mermaid: /^sequenceDiagram$/m } as const;

/**
 * Exports one recorded trace (JSONL) as an SVG (default) or Mermaid sequence diagram.
 * @param makeProgram builds a fresh commander tree (commander keeps state between parses).
 */
export async function exportTraceSvg(makeProgram: () => Command, trace: string, out: string, format: keyof typeof EXPECTED_OUTPUT = 'svg'): Promise<void> {
  const program = makeProgram();
  if (!hasExporter(program)) {
    throw new DiagramExportError('`chatlab inspect export` is not available (src/inspector has not registered it yet)');
  }
  if (!existsSync(trace)) throw new DiagramExportError(`no recorded trace at ${trace}`);
  mkdirSync(dirname(out), { recursive: true });
  const silence = (cmd: Command): void => {
    cmd.exitOverride();
    cmd.configureOutput({ writeOut: () => {}, writeErr: () => {} });
    cmd.commands.forEach(silence);
  };
  silence(program);
  try {
    await program.parseAsync(['inspect', 'export', trace, '--format', format, '-o', out], { from: 'user' });
  } catch (error) {
    const message = error instanceof CommanderError || error instanceof Error ? error.message : String(error);
    throw new DiagramExportError(`chatlab inspect export ${trace} failed: ${message}`);
  }
  if (!existsSync(out)) throw new DiagramExportError(`chatlab inspect export ${trace} wrote no file at ${out}`);
  const written = readFileSync(out, 'utf8');
  if (!EXPECTED_OUTPUT[format].test(written)) {
    throw new DiagramExportError(`chatlab inspect export ${trace} did not write ${format} to ${out}`);
  }
  if (format === 'svg') writeFileSync(out, readableSvg(written));
}

/** The smallest text a diagram may show on the site, in CSS pixels. */
export const MIN_DIAGRAM_FONT_PX = 11;

/**
 * An exported SVG drawn large enough that its smallest text is {@link MIN_DIAGRAM_FONT_PX}: its
 * width and height grow by the same factor, the drawing (its viewBox) stays as it is. The site
 * shows diagrams at that size, scrolling sideways when wider than the column.
 */
export function readableSvg(svg: string): string {
  const sizes = [...svg.matchAll(/font-size:\s*([\d.]+)px/g)].map((match) => Number(match[1]));
  const smallest = Math.min(...sizes);
  if (!Number.isFinite(smallest) || smallest >= MIN_DIAGRAM_FONT_PX) return svg;
  const scale = MIN_DIAGRAM_FONT_PX / smallest;
  return svg.replace(
    /^(<svg\b[^>]*?)\swidth="([\d.]+)"\s+height="([\d.]+)"/,
    (_, start: string, width: string, height: string) => `${start} width="${Math.ceil(Number(width) * scale)}" height="${Math.ceil(Number(height) * scale)}"`,
  );
}

/**
 * Writes one recorded trace (JSONL) as the rows and lifelines JSON the docs' RecordedDiagram
 * component draws (docs/.vitepress/theme/RecordedDiagram.vue, with the web inspector's own
 * SequenceDiagram.vue): the rows an InspectorFeed gives a web inspector tab (src/web/recorded-diagram.ts).
 * Returns the JSON written.
 */
export async function writeRecordedDiagram(trace: string, out: string): Promise<string> {
  if (!existsSync(trace)) throw new DiagramExportError(`no recorded trace at ${trace}`);
  let json: string;
  try {
    json = `${JSON.stringify(recordedDiagram(await readTrace(trace)))}\n`;
  } catch (error) {
    throw new DiagramExportError(`${trace}: ${error instanceof Error ? error.message : String(error)}`);
  }
  mkdirSync(dirname(out), { recursive: true });
  if (!existsSync(out) || readFileSync(out, 'utf8') !== json) writeFileSync(out, json);
  return json;
}
