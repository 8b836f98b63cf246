import { Command } from 'commander';
import { readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

/** The `chatlab` command itself (name, description, version, help settings), with no subcommand yet. */
export function createRootCommand(): Command {
  return new Command('chatlab')
    .description('Learn network programming by building a TCP chat: server, client, live protocol inspector and verifier.')
    .version(pkg.version, '-V, --version', 'print the chatlab version')
    .showSuggestionAfterError()
    .configureHelp({ sortSubcommands: false });
}
