import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Endpoint } from '../inspector/index.ts';
import type { InspectorFeed } from './inspector-feed.ts';
import { listenForBrowsers, stopForBrowsers } from './browser-listen.ts';
import { allowedHosts, isAllowedOrigin } from './origin.ts';
import { answerInspectorRoute } from './inspector-routes.ts';
import { refuse, serveStatic } from './static-files.ts';

/** Path of the inspector's diagram WebSocket: {@link DiagramUpdate} JSON of every connection. */
export const INSPECT_FEED_PATH = '/inspect-feed';
/** The page of the built app that draws the inspector's diagram. */
export const INSPECTOR_PAGE = 'inspector.html';
/** Largest message a tab may send (it sends none: anything bigger closes it). */
const MAX_TAB_MESSAGE_BYTES = 1024;

/** Options of {@link startInspectorWebServer}. */
export interface InspectorWebServerOptions {
  /** Where to listen (default 127.0.0.1). */
  host?: string;
  /** Port to listen on, 0 for any free one. */
  port: number;
  /**
   * The built app's folder (see ensureAppBuilt), or how to get it: called once, on the first
   * request for the page, so a view nobody opens never pays for the build.
   */
  appDir: string | (() => Promise<string>);
  /** The inspector's rows, as a sink given to startInspector. */
  feed: InspectorFeed;
}

/** A running `chatlab inspect --web`. */
export interface InspectorWebServer {
  address: Endpoint;
  /** The page's URL. */
  url: string;
  /** Closes every tab and stops listening. */
  stop(): Promise<void>;
}

/**
 * Serves the inspector's live diagram to browser tabs: the built app's inspector page over HTTP,
 * the session's exports and row details (inspector-routes.ts), and the {@link InspectorFeed} over
 * a WebSocket at {@link INSPECT_FEED_PATH}. Like `chatlab web`, it refuses (403) requests under
 * another Host, and requests and upgrades from another Origin.
 */
export async function startInspectorWebServer(options: InspectorWebServerOptions): Promise<InspectorWebServer> {
  const host = options.host ?? '127.0.0.1';
  const sockets = new Set<WebSocket>();
  let hosts = new Set<string>();
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_TAB_MESSAGE_BYTES });
  let appDir: Promise<string> | undefined;

  async function servePage(request: IncomingMessage, response: ServerResponse): Promise<void> {
    appDir ??= typeof options.appDir === 'string' ? Promise.resolve(options.appDir) : options.appDir();
    let dir: string;
    try {
      dir = await appDir;
    } catch (error) {
      refuse(response, 500, `the web app could not be built: ${(error as Error).message}`);
      return;
    }
    await serveStatic(dir, request, response, INSPECTOR_PAGE);
  }

  const server: Server = createServer((request: IncomingMessage, response: ServerResponse) => {
    if (!hosts.has((request.headers.host ?? '').toLowerCase())) {
      refuse(response, 403, 'this server answers only under its own address (Host header refused)');
      return;
    }
    // A script of another site sends its Origin; the exports and details are for this page only.
    if (!isAllowedOrigin(request.headers.origin, hosts)) {
      refuse(response, 403, 'Forbidden: request from another origin');
      return;
    }
    if (answerInspectorRoute(options.feed, request, response)) return;
    void servePage(request, response);
  });

  function rejectUpgrade(socket: Duplex, status: number, reason: string): void {
    socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: text/plain\r\n\r\n${reason}\n`);
  }

  function forget(this: WebSocket): void {
    sockets.delete(this);
  }

  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    if (!isAllowedOrigin(request.headers.origin, hosts)) return rejectUpgrade(socket, 403, 'Forbidden: WebSocket from another origin');
    if (!hosts.has((request.headers.host ?? '').toLowerCase())) return rejectUpgrade(socket, 403, 'Forbidden: Host header refused');
    if (new URL(request.url ?? '/', 'http://x').pathname !== INSPECT_FEED_PATH) return rejectUpgrade(socket, 404, 'Not Found');
    wss.handleUpgrade(request, socket, head, (ws) => {
      sockets.add(ws);
      ws.once('close', forget);
      options.feed.subscribe(ws);
    });
  });

  const { port, url } = await listenForBrowsers(server, options.port, host);
  hosts = allowedHosts(host, port);
  return {
    address: { host, port },
    url,
    async stop() {
      options.feed.closeAll();
      await stopForBrowsers(server, wss, sockets, 'chatlab inspect is stopping');
    },
  };
}
