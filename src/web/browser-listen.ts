import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { WebSocket, WebSocketServer } from 'ws';

/** Where a server for browser pages listens: the port it got, and the URL to open in a browser. */
export interface BrowserAddress {
  port: number;
  url: string;
}

/**
 * Starts `server` listening on `host:port` (port 0: any free one). The URL names 127.0.0.1 for a
 * wildcard host, which a browser cannot open, and brackets an IPv6 address.
 * @throws the listen error (EADDRINUSE, EACCES…) for the caller to turn into one clear line
 */
export async function listenForBrowsers(server: Server, port: number, host: string): Promise<BrowserAddress> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  const urlHost = shownHost === '0.0.0.0' || shownHost === '[::]' ? '127.0.0.1' : shownHost;
  return { port: bound, url: `http://${urlHost}:${bound}/` };
}

/** How long a tab may take to answer the WebSocket close handshake before it is cut. */
const CLOSE_HANDSHAKE_MS = 1_000;

/**
 * Stops a server for browser pages: closes each open WebSocket with 1001 (going away) and
 * `reason`, stops listening, drops the HTTP connections, and cuts the sockets that do not answer
 * the close handshake within a second.
 */
export async function stopForBrowsers(server: Server, wss: WebSocketServer, sockets: ReadonlySet<WebSocket>, reason: string): Promise<void> {
  for (const ws of sockets) ws.close(1001, reason);
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
    setTimeout(() => {
      for (const ws of sockets) ws.terminate();
    }, CLOSE_HANDSHAKE_MS).unref();
  });
  wss.close();
}
