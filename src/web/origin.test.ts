import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { allowedHosts, isAllowedOrigin } from './origin.ts';

describe('allowedHosts and isAllowedOrigin', () => {
  it('on 127.0.0.1: the loopback names with the port, nothing else', () => {
    const hosts = allowedHosts('127.0.0.1', 8080);
    expect([...hosts].sort()).toEqual(['127.0.0.1:8080', '[::1]:8080', 'localhost:8080']);
    expect(isAllowedOrigin('http://127.0.0.1:8080', hosts)).toBe(true);
    expect(isAllowedOrigin('http://LOCALHOST:8080', hosts)).toBe(true);
    expect(isAllowedOrigin('http://[::1]:8080', hosts)).toBe(true);
  });

  it('refuses another site, another port, another scheme, a rebound DNS name and garbage', () => {
    const hosts = allowedHosts('127.0.0.1', 8080);
    for (const origin of ['http://evil.example', 'http://127.0.0.1:8081', 'https://127.0.0.1:8080', 'http://attacker.example:8080', 'null', 'file://', '']) {
      expect(isAllowedOrigin(origin, hosts), origin).toBe(false);
    }
  });

  it('lets a request without Origin through (a program, not a page)', () => {
    expect(isAllowedOrigin(undefined, allowedHosts('127.0.0.1', 8080))).toBe(true);
  });

  it('adds the --host, and for a wildcard this machine’s name and addresses', () => {
    expect(allowedHosts('192.168.1.20', 80).has('192.168.1.20:80')).toBe(true);
    expect(allowedHosts('::1', 80).has('[::1]:80')).toBe(true);
    const wildcard = allowedHosts('0.0.0.0', 8080);
    expect(wildcard.has(`${hostname().toLowerCase()}:8080`)).toBe(true);
    expect(wildcard.has('127.0.0.1:8080')).toBe(true);
    expect(wildcard.has('0.0.0.0:8080')).toBe(false);
  });
});
