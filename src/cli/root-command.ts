import { Command } from 'commander';
import { PACKAGE_VERSION } from '../package-version.ts';

/** The `chatlab` command itself (name, description, version, help settings), with no subcommand yet. */
export function createRootCommand(): Command {
  return new Command('chatlab')
    .description('Learn network programming by building a TCP chat: server, client, live protocol inspector and verifier.')
    .version(PACKAGE_VERSION, '-V, --version', 'print the chatlab version')
    .showSuggestionAfterError()
    .configureHelp({ sortSubcommands: false });
}
