import { NOMINAL_INSPECTOR_PORT, NOMINAL_SERVER_PORT, normalisePort, type PortRename, type Terminal } from '../runtime/index.ts';

/** A terminal's session as text: the command after `$ `, then every line shown, with each port renamed. */
export function terminalText(terminal: Terminal, port: PortRename, more: readonly PortRename[] = []): string {
  const side = isServerTerminal(terminal) ? 'server' : 'users';
  const renames = [port, ...more.filter((rename) => rename.side === undefined || rename.side === side)];
  const lines = [`$ ${terminal.command}`, ...terminal.lines.map((line) => line.text)];
  return lines.map((line) => renames.reduce((text, { actual, nominal }) => normalisePort(text, actual, nominal), line)).join('\n');
}

/** Which ports a run used, to show them as 7070 (server) and 7071 (where users connect). */
export interface RunPorts {
  /** The port the lesson server listened on (a cluster lesson's: its first node's). */
  server: number;
  /** The port the users connected to: the inspector's, or the server's when run without one. */
  users: number;
  /**
   * Further ports, renamed in every terminal: a cluster lesson's other nodes and their
   * inspectors (7072, 7073), and its Redis (6379).
   */
  more?: PortRename[];
}

/** Whether a terminal is a lesson server's: `server`, or a cluster node's `server A`. */
export function isServerTerminal(terminal: Terminal): boolean {
  return terminal.name === 'server' || terminal.name.startsWith('server ');
}

/**
 * The README's "what you should see": one fenced block per terminal, the server first, with the
 * ports a learner would use (server 7070, users through the inspector on 7071).
 */
export function renderTranscripts(terminals: Terminal[], ports: RunPorts): string {
  return terminals
    .map((terminal, index) => {
      const isServer = isServerTerminal(terminal);
      const port = isServer ? { actual: ports.server, nominal: NOMINAL_SERVER_PORT } : { actual: ports.users, nominal: NOMINAL_INSPECTOR_PORT };
      const title = isServer ? `the ${terminal.name}` : terminal.command.startsWith('nc ') ? `${terminal.name}, by hand with nc` : `${terminal.name}'s client`;
      return `Terminal ${index + 1}, ${title}:\n\n\`\`\`text\n${terminalText(terminal, port, ports.more)}\n\`\`\``;
    })
    .join('\n\n');
}
