import { NOMINAL_INSPECTOR_PORT, NOMINAL_SERVER_PORT, normalisePort, type Terminal } from '../runtime/index.ts';

/** A terminal's session as text: the command after `$ `, then every line shown. */
export function terminalText(terminal: Terminal, port: { actual: number; nominal: number }): string {
  const lines = [`$ ${terminal.command}`, ...terminal.lines.map((line) => line.text)];
  return lines.map((line) => normalisePort(line, port.actual, port.nominal)).join('\n');
}

/** Which ports a run used, to show them as 7070 (server) and 7071 (where users connect). */
export interface RunPorts {
  /** The port the lesson server listened on. */
  server: number;
  /** The port the users connected to: the inspector's, or the server's when run without one. */
  users: number;
}

/**
 * The README's "what you should see": one fenced block per terminal, the server first, with the
 * ports a learner would use (server 7070, users through the inspector on 7071).
 */
export function renderTranscripts(terminals: Terminal[], ports: RunPorts): string {
  return terminals
    .map((terminal, index) => {
      const isServer = terminal.name === 'server';
      const port = isServer
        ? { actual: ports.server, nominal: NOMINAL_SERVER_PORT }
        : { actual: ports.users, nominal: NOMINAL_INSPECTOR_PORT };
      const title = isServer ? 'the server' : terminal.command.startsWith('nc ') ? `${terminal.name}, by hand with nc` : `${terminal.name}'s client`;
      return `Terminal ${index + 1}, ${title}:\n\n\`\`\`text\n${terminalText(terminal, port)}\n\`\`\``;
    })
    .join('\n\n');
}
