/**
 * Renders the CLI reference page (docs/cli.md) from the commander tree that `buildProgram()`
 * builds, so the page always says exactly what `chatlab --help` says.
 */
import type { Argument, Command, Help, Option } from 'commander';

/** Escapes text for a markdown table cell, or for prose that Vue must not interpret. */
export function escapeMarkdown(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\|/g, '\\|').replace(/\{\{/g, '&#123;&#123;').replace(/\r?\n/g, ' ');
}

/** Inline code that survives backticks inside it. */
function code(text: string): string {
  const fence = text.includes('`') ? '``' : '`';
  const pad = text.startsWith('`') || text.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${text}${pad}${fence}`;
}

/** The full command path, e.g. `chatlab inspect export`. */
export function commandPath(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/** The page anchor VitePress gives a heading made of the command path. */
function anchorOf(command: Command): string {
  return commandPath(command)
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
}

/** Every command of the tree, depth first, root included. */
export function walkCommands(root: Command): Command[] {
  const out: Command[] = [];
  const visit = (command: Command): void => {
    out.push(command);
    for (const sub of command.commands) if (!(sub as Command & { _hidden?: boolean })._hidden) visit(sub);
  };
  visit(root);
  return out;
}

function describeDefault(value: unknown, description?: string): string {
  if (description) return description;
  if (value === undefined) return '';
  return JSON.stringify(value) ?? String(value);
}

function optionRow(help: Help, option: Option): string {
  const extras: string[] = [];
  if (option.argChoices) extras.push(`one of ${option.argChoices.map((c) => code(c)).join(', ')}`);
  const fallback = describeDefault(option.defaultValue, option.defaultValueDescription);
  if (fallback) extras.push(`default ${code(fallback)}`);
  if (option.envVar) extras.push(`env ${code(option.envVar)}`);
  if (option.mandatory) extras.push('required');
  const description = escapeMarkdown(option.description ?? '');
  return `| ${code(help.optionTerm(option))} | ${description}${extras.length ? ` (${extras.join('; ')})` : ''} |`;
}

function argumentRow(help: Help, argument: Argument): string {
  const extras: string[] = [];
  extras.push(argument.required ? 'required' : 'optional');
  if (argument.variadic) extras.push('repeatable');
  if (argument.argChoices) extras.push(`one of ${argument.argChoices.map((c) => code(c)).join(', ')}`);
  const fallback = describeDefault(argument.defaultValue, argument.defaultValueDescription);
  if (fallback) extras.push(`default ${code(fallback)}`);
  return `| ${code(help.argumentTerm(argument))} | ${escapeMarkdown(argument.description ?? '')} (${extras.join('; ')}) |`;
}

/**
 * Extra help a command adds with `addHelpText` (examples, notes): what `--help` prints beyond the
 * generated part. Commander emits it as events around the help, so capture a real help output.
 */
export function extraHelpText(command: Command): string {
  let full = '';
  command.configureOutput({ writeOut: (text) => void (full += text), writeErr: (text) => void (full += text), getOutHelpWidth: () => 100, getErrHelpWidth: () => 100 });
  command.outputHelp();
  const generated = command.helpInformation();
  return full
    .replace(generated, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

/** The markdown section of one command. */
export function renderCommand(command: Command): string {
  const help = command.createHelp();
  const lines: string[] = [];
  const depth = Math.min(2 + commandPath(command).split(' ').length - 1, 4);
  lines.push(`${'#'.repeat(depth)} ${commandPath(command)}`, '');
  const description = help.commandDescription(command);
  if (description) lines.push(escapeMarkdown(description), '');
  lines.push('```text', `${help.commandUsage(command)}`, '```', '');
  const args = help.visibleArguments(command);
  if (args.length) {
    lines.push('| Argument | Description |', '|---|---|', ...args.map((a) => argumentRow(help, a)), '');
  }
  const options = help.visibleOptions(command);
  if (options.length) {
    lines.push('| Option | Description |', '|---|---|', ...options.map((o) => optionRow(help, o)), '');
  }
  const extra = extraHelpText(command);
  if (extra) {
    const fence = '`'.repeat(Math.max(3, ...[...extra.matchAll(/`+/g)].map((m) => m[0].length + 1)));
    lines.push(`${fence}text`, extra, fence, '');
  }
  const subs = help.visibleCommands(command).filter((s) => s.name() !== 'help');
  if (subs.length) {
    lines.push('| Subcommand | Description |', '|---|---|');
    for (const sub of subs) {
      lines.push(`| [${code(help.subcommandTerm(sub))}](#${anchorOf(sub)}) | ${escapeMarkdown(help.subcommandDescription(sub))} |`);
    }
    lines.push('');
  }
  return lines.join('\n');
}

/** The whole CLI reference page. */
export function renderCliReference(program: Command): string {
  const commands = walkCommands(program);
  const top = commands.filter((c) => c.parent === program);
  const lines = [
    '---',
    'outline: [2, 3]',
    '---',
    '',
    '<!-- Generated by scripts/docs-prepare.ts from buildProgram() in src/cli/program.ts. Do not edit: edit the command definitions. -->',
    '',
    '# CLI reference',
    '',
    `Everything the ${code(program.name())} command can do, generated at build time from the same commander`,
    `definitions the command runs (${code('src/cli/program.ts')} and ${code('src/cli/commands/')}), so it cannot drift.`,
    `Every command also prints this with ${code('--help')}, e.g. ${code(`${program.name()} ${top[0]?.name() ?? ''} --help`.replace(/\s+--help/, ' --help'))}.`,
    '',
    `Run it from the repository with ${code('npx chatlab …')} (or ${code('npm run chatlab -- …')}).`,
    'Errors are one clear line on stderr and a non-zero exit status; set `CHATLAB_DEBUG=1` to see a stack trace.',
    '',
  ];
  if (top.length) {
    lines.push('| Command | What it does |', '|---|---|');
    for (const c of top) lines.push(`| [${code(commandPath(c))}](#${anchorOf(c)}) | ${escapeMarkdown(c.description())} |`);
    lines.push('');
  }
  for (const command of commands) lines.push(renderCommand(command));
  return lines.join('\n');
}
