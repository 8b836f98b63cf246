import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { MAX_FRAME_BYTES } from '../protocol/index.ts';
import type { Endpoint } from '../inspector/index.ts';
import { WebSocketBridge } from './bridge.ts';
import { listenForBrowsers, stopForBrowsers } from './browser-listen.ts';
import { allowedHosts, isAllowedOrigin } from './origin.ts';
import { refuse, serveStatic } from './static-files.ts';
import { WireFeed } from './wire-feed.ts';

/** Path of the chat WebSocket: one text message = one chatlab/1 frame, bridged to the target. */
export const CHAT_PATH = '/chat';
/** Path of the diagram WebSocket: {@link DiagramUpdate} JSON of one session's wire. */
export const WIRE_PATH = '/wire';
/** A session id, chosen by the page (crypto.randomUUID()), tying its chat and diagram sockets together. */
export const SESSION_PATTERN = /^[A-Za-z0-9-]{16,64}$/;
/** Browser sessions one web server keeps at once. */
export const MAX_SESSIONS = 100;
/**
 * Largest WebSocket message `ws` reads at all: bigger ones close the socket (1009) unread. Up to
 * it, a message over a frame is read and answered with the protocol's `frame_too_large`.
 */
export const MAX_WS_MESSAGE_BYTES = 4 * MAX_FRAME_BYTES;

/** Options of {@link startWebServer}. */
export interface WebServerOptions {
  /** Where to listen (default 127.0.0.1). */
  host?: string;
  /** Port to listen on, 0 for any free one. */
  port: number;
  /** The chatlab/1 server each browser session is bridged to. */
  target: Endpoint;
  /** The built app's folder (see ensureAppBuilt). */
  appDir: string;
  /** Bridge backpressure bounds, for tests (see BridgeOptions). */
  highWaterBytes?: number;
  lowWaterBytes?: number;
}

/** A running `chatlab web`. */
export interface WebServer {
  /** Where it listens. */
  address: Endpoint;
  /** The page's URL. */
  url: string;
  /** Browser sessions open now. */
  readonly sessionCount: number;
  /** The bridges open now (tests look at their backpressure state). */
  readonly bridges: ReadonlySet<WebSocketBridge>;
  /** Closes every browser session (and so its TCP connection) and stops listening. */
  stop(): Promise<void>;
}

/**
 * Starts the web chat: an HTTP server for the built app and a WebSocket endpoint that bridges
 * each browser session to `target` over TCP, plus a diagram feed of that session's wire.
 * Refuses (403) requests and upgrades from another origin.
 */
export async function startWebServer(options: WebServerOptions): Promise<WebServer> {
  const host = options.host ?? '127.0.0.1';
  const sessions = new Map<string, WireFeed>();
  const bridges = new Set<WebSocketBridge>();
  const sockets = new Set<WebSocket>();
  let hosts = new Set<string>();
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_WS_MESSAGE_BYTES });

  const server: Server = createServer((request: IncomingMessage, response: ServerResponse) => {
    if (!hosts.has((request.headers.host ?? '').toLowerCase())) {
      refuse(response, 403, 'this server answers only under its own address (Host header refused)');
      return;
    }
    void serveStatic(options.appDir, request, response);
  });

  function feedFor(session: string): WireFeed | undefined {
    let feed = sessions.get(session);
    if (feed) return feed;
    if (sessions.size >= MAX_SESSIONS) return undefined;
    feed = new WireFeed();
    sessions.set(session, feed);
    return feed;
  }

  function forgetIfIdle(session: string, feed: WireFeed): void {
    if (!feed.chatOpen && feed.subscriberCount === 0 && sessions.get(session) === feed) sessions.delete(session);
  }

  function rejectUpgrade(socket: Duplex, status: number, reason: string): void {
    socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: text/plain\r\n\r\n${reason}\n`);
  }

  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    if (!isAllowedOrigin(request.headers.origin, hosts)) return rejectUpgrade(socket, 403, 'Forbidden: WebSocket from another origin');
    const url = new URL(request.url ?? '/', 'http://x');
    const session = url.searchParams.get('session') ?? '';
    if ((url.pathname !== CHAT_PATH && url.pathname !== WIRE_PATH) || !SESSION_PATTERN.test(session)) return rejectUpgrade(socket, 404, 'Not Found');
    const feed = feedFor(session);
    if (!feed) return rejectUpgrade(socket, 503, 'Service Unavailable: too many browser sessions');
    if (url.pathname === CHAT_PATH && (feed.chatOpen || feed.rows.length > 0)) return rejectUpgrade(socket, 409, 'Conflict: this session already has its chat');
    wss.handleUpgrade(request, socket, head, (ws) => {
      sockets.add(ws);
      ws.once('close', () => {
        sockets.delete(ws);
        forgetIfIdle(session, feed);
      });
      if (url.pathname === WIRE_PATH) {
        feed.subscribe(ws);
        return;
      }
      feed.chatOpen = true;
      const peer = `${request.socket.remoteAddress}:${request.socket.remotePort}`;
      const bridge = new WebSocketBridge(ws, {
        target: options.target,
        peer,
        onEvent: (event) => feed.apply(event),
        highWaterBytes: options.highWaterBytes,
        lowWaterBytes: options.lowWaterBytes,
      });
      bridges.add(bridge);
      ws.once('close', () => {
        bridges.delete(bridge);
        feed.chatOpen = false;
        forgetIfIdle(session, feed);
      });
    });
  });

  const { port, url } = await listenForBrowsers(server, options.port, host);
  hosts = allowedHosts(host, port);
  return {
    address: { host, port },
    url,
    get sessionCount() {
      return sessions.size;
    },
    bridges,
    async stop() {
      for (const feed of sessions.values()) feed.closeAll();
      await stopForBrowsers(server, wss, sockets, 'chatlab web is stopping');
    },
  };
}
