import { describe, expect, it } from 'vitest';
import { DEFAULT_AFTER_LOGIN, guardRoute, safeRedirect } from './auth-guard';

describe('safeRedirect', () => {
  it.each([
    ['/', '/'],
    ['/history?range=6h#cpu', '/history?range=6h#cpu'],
    [['/history', '/other'], '/history'],
  ])('keeps the in-app path %j', (value, expected) => {
    expect(safeRedirect(value)).toBe(expected);
  });

  it.each([
    ['//evil.example/x'],
    ['/\\evil.example'],
    ['https://evil.example/'],
    ['javascript:alert(1)'],
    ['history'],
    ['/a\nb'],
    ['/login'],
    ['/login?redirect=/'],
    [''],
    [undefined],
    [null],
    [42],
    [[]],
  ])('refuses %j, going to the dashboard instead', (value) => {
    expect(safeRedirect(value)).toBe(DEFAULT_AFTER_LOGIN);
  });
});

describe('guardRoute', () => {
  const dashboard = { name: 'dashboard', fullPath: '/?host=db-1', query: {}, meta: {} };
  const login = (redirect?: string) => ({
    name: 'login',
    fullPath: '/login',
    query: redirect === undefined ? {} : { redirect },
    meta: { public: true },
  });

  it('sends a visitor without a session to the login page, remembering the way', () => {
    expect(guardRoute(dashboard, false)).toEqual({
      name: 'login',
      query: { redirect: '/?host=db-1' },
    });
    expect(guardRoute(dashboard, true)).toBe(true);
  });

  it('lets anyone see the login page, and sends a logged-in user on', () => {
    expect(guardRoute(login('/history'), false)).toBe(true);
    expect(guardRoute(login('/history'), true)).toBe('/history');
    expect(guardRoute(login('//evil.example'), true)).toBe('/');
  });
});
