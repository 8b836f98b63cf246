import type { InspectorFeed, InspectorWebServer } from '../web/index.ts';
import { CliError, describeError } from './errors.ts';

/** The inspector's page of `--web`: the sink to give startInspector, and the server of the page. */
export interface WebView {
  feed: InspectorFeed;
  server: InspectorWebServer;
}

/**
 * `--web PORT` (inspect, demo): builds the web app if needed and serves the inspector's page,
 * before the inspector starts (a busy port fails before the terminal UI takes the screen).
 * The web modules are loaded only then.
 *
 * @param buildOnFirstVisit build the app only when a browser first asks for the page (silently:
 *   the terminal UI owns the screen), for a view that is offered rather than asked for.
 */
export async function startWebView(port: number, host: string, buildOnFirstVisit = false): Promise<WebView> {
  const { ensureAppBuilt, InspectorFeed, startInspectorWebServer } = await import('../web/index.ts');
  const feed = new InspectorFeed();
  try {
    const appDir = buildOnFirstVisit ? () => ensureAppBuilt() : await ensureAppBuilt((line) => process.stderr.write(`${line}\n`));
    return { feed, server: await startInspectorWebServer({ host, port, appDir, feed }) };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new CliError(`address already in use (${host}:${port}): pick another --web port`);
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') throw new CliError(`--web-host ${host}: not an address of this machine`);
    throw new CliError(`--web: ${describeError(error)}`);
  }
}
