import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

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
