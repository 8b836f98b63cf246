import { hostname, networkInterfaces } from 'node:os';

const LOOPBACK_NAMES = ['127.0.0.1', 'localhost', '[::1]'];
const WILDCARDS = new Set(['0.0.0.0', '::', '[::]']);

/** `host` as it appears in a URL: an IPv6 address in brackets. */
function urlHost(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

/**
 * The `host:port` values under which a browser may reach this server, given where it listens:
 * the loopback names always, the `--host` itself, and for a wildcard (`0.0.0.0`, `::`) every
 * address of this machine and its host name. What a page's `Origin` (and a request's `Host`) must
 * name: a page from any other site — or a DNS name rebound to 127.0.0.1 — is refused.
 */
export function allowedHosts(listenHost: string, port: number): Set<string> {
  const names = new Set(LOOPBACK_NAMES);
  if (WILDCARDS.has(listenHost)) {
    names.add(hostname().toLowerCase());
    for (const addresses of Object.values(networkInterfaces())) for (const address of addresses ?? []) names.add(urlHost(address.address));
  } else {
    names.add(urlHost(listenHost.toLowerCase()));
  }
  return new Set([...names].map((name) => `${name}:${port}`));
}

/**
 * Whether a WebSocket upgrade may proceed: browsers always send `Origin`, so a page of another
 * site (cross-site WebSocket hijacking) is refused; a non-browser client (a script, a test)
 * sends none and is let through, as it could reach the TCP server directly anyway.
 */
export function isAllowedOrigin(origin: string | undefined, hosts: ReadonlySet<string>): boolean {
  if (origin === undefined) return true;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  return url.protocol === 'http:' && hosts.has(url.host.toLowerCase());
}
