import { describe, expect, it } from 'vitest';
import { compileTrustProxy, type TrustProxyFn } from './trust-proxy.js';

describe('compileTrustProxy', () => {
  it("keeps Express's meaning of true, false and a hop count", () => {
    expect(compileTrustProxy(true)).toBe(true);
    expect(compileTrustProxy(false)).toBe(false);
    expect(compileTrustProxy(2)).toBe(2);
  });

  const trust = compileTrustProxy([
    'loopback',
    'uniquelocal',
    '203.0.113.7',
    '198.51.100.0/24',
    'fd00:aa::/32',
  ]) as TrustProxyFn;

  it('believes a named address or range at any hop', () => {
    expect(trust('203.0.113.7', 0)).toBe(true);
    expect(trust('203.0.113.7', 2)).toBe(true);
    expect(trust('198.51.100.200', 1)).toBe(true);
    expect(trust('fd00:aa::5', 1)).toBe(true);
    expect(trust('203.0.113.8', 0)).toBe(false);
  });

  it('believes loopback and uniquelocal for the peer only', () => {
    for (const address of [
      '127.0.0.1',
      '::1',
      '::ffff:127.0.0.1',
      '10.1.2.3',
      '192.168.1.20',
      'fd12::1',
    ]) {
      expect(trust(address, 0), address).toBe(true);
      expect(trust(address, 1), address).toBe(false);
    }
  });

  it('believes nothing that is not an address, as a forged header may hold', () => {
    expect(trust('unknown', 0)).toBe(false);
    expect(trust('', 1)).toBe(false);
    expect(trust('1.2.3.4.5', 0)).toBe(false);
  });

  it('believes linklocal for the peer only, and no public address', () => {
    const linklocal = compileTrustProxy(['linklocal']) as TrustProxyFn;
    expect([linklocal('169.254.1.1', 0), linklocal('fe80::1', 0)]).toEqual([true, true]);
    expect([linklocal('169.254.1.1', 1), linklocal('8.8.8.8', 0)]).toEqual([false, false]);
  });
});
