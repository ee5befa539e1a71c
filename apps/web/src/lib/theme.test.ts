import { describe, expect, it } from 'vitest';
import {
  CHART_THEMES,
  THEME_STORAGE_KEY,
  chartThemeName,
  createThemeController,
  parseThemePreference,
  resolveThemeMode,
  themeAttribute,
} from './theme';
import type { DarkSchemeQuery, ThemeEnvironment, ThemeState } from './theme';

/** A `prefers-color-scheme: dark` query the test flips. */
function fakeQuery(dark: boolean) {
  const listeners = new Set<() => void>();
  const query = {
    matches: dark,
    addEventListener: (_type: 'change', listener: () => void) => listeners.add(listener),
    removeEventListener: (_type: 'change', listener: () => void) => listeners.delete(listener),
    flip(next: boolean) {
      query.matches = next;
      for (const listener of listeners) listener();
    },
    listeners,
  };
  return query satisfies DarkSchemeQuery;
}

function fakeStorage(initial: Record<string, string> = {}) {
  const data = new Map(Object.entries(initial));
  return {
    data,
    getItem: (key: string) => data.get(key) ?? null,
    setItem: (key: string, value: string) => void data.set(key, value),
    removeItem: (key: string) => void data.delete(key),
  };
}

function fakeRoot() {
  const attributes = new Map<string, string>();
  return {
    attributes,
    setAttribute: (name: string, value: string) => void attributes.set(name, value),
    removeAttribute: (name: string) => void attributes.delete(name),
  };
}

function setup(stored: string | null, dark: boolean) {
  const storage = fakeStorage(stored === null ? {} : { [THEME_STORAGE_KEY]: stored });
  const query = fakeQuery(dark);
  const root = fakeRoot();
  const env: ThemeEnvironment = { storage, query, root };
  const controller = createThemeController(env);
  const seen: ThemeState[] = [];
  controller.subscribe((state) => seen.push(state));
  return { storage, query, root, controller, seen };
}

describe('theme preference', () => {
  it('reads only light and dark as forced; anything else follows the system', () => {
    expect(parseThemePreference('light')).toBe('light');
    expect(parseThemePreference('dark')).toBe('dark');
    for (const raw of [null, undefined, '', 'system', 'DARK', 'blue', 1]) {
      expect(parseThemePreference(raw)).toBe('system');
    }
  });

  it('resolves the shown theme from the preference and the system', () => {
    expect(resolveThemeMode('system', true)).toBe('dark');
    expect(resolveThemeMode('system', false)).toBe('light');
    expect(resolveThemeMode('light', true)).toBe('light');
    expect(resolveThemeMode('dark', false)).toBe('dark');
  });

  it('marks <html> only when a theme is forced', () => {
    expect(themeAttribute('system')).toBeNull();
    expect(themeAttribute('light')).toBe('light');
    expect(themeAttribute('dark')).toBe('dark');
  });

  it('names an ECharts theme per page theme', () => {
    expect(chartThemeName('light')).toBe(CHART_THEMES.light);
    expect(chartThemeName('dark')).toBe(CHART_THEMES.dark);
    expect(CHART_THEMES.light).not.toBe(CHART_THEMES.dark);
  });
});

describe('createThemeController', () => {
  it('follows the system by default, with no attribute on <html>', () => {
    const { controller, root, query, seen } = setup(null, false);
    expect(controller.state).toEqual({ preference: 'system', mode: 'light' });
    expect(root.attributes.has('data-theme')).toBe(false);
    query.flip(true);
    expect(controller.state).toEqual({ preference: 'system', mode: 'dark' });
    expect(seen).toEqual([{ preference: 'system', mode: 'dark' }]);
  });

  it('applies a stored choice at once and ignores the system while it holds', () => {
    const { controller, root, query, seen } = setup('dark', false);
    expect(controller.state).toEqual({ preference: 'dark', mode: 'dark' });
    expect(root.attributes.get('data-theme')).toBe('dark');
    query.flip(true);
    query.flip(false);
    expect(seen).toEqual([]);
  });

  it('stores a choice, sets data-theme, and forgets it when following the system again', () => {
    const { controller, root, storage, seen } = setup(null, true);
    controller.set('light');
    expect(storage.data.get(THEME_STORAGE_KEY)).toBe('light');
    expect(root.attributes.get('data-theme')).toBe('light');
    expect(controller.state).toEqual({ preference: 'light', mode: 'light' });

    controller.set('system');
    expect(storage.data.has(THEME_STORAGE_KEY)).toBe(false);
    expect(root.attributes.has('data-theme')).toBe(false);
    expect(controller.state).toEqual({ preference: 'system', mode: 'dark' });
    expect(seen).toEqual([
      { preference: 'light', mode: 'light' },
      { preference: 'system', mode: 'dark' },
    ]);
  });

  it('announces a change of preference even when the shown theme stays', () => {
    const { controller, seen } = setup(null, true);
    controller.set('dark');
    expect(seen).toEqual([{ preference: 'dark', mode: 'dark' }]);
    controller.set('dark');
    expect(seen).toHaveLength(1);
  });

  it('works without storage, media query or root, and when storage throws', () => {
    const bare = createThemeController({ storage: null, query: null, root: null });
    expect(bare.state).toEqual({ preference: 'system', mode: 'light' });
    bare.set('dark');
    expect(bare.state.mode).toBe('dark');

    const broken = {
      getItem: () => {
        throw new Error('denied');
      },
      setItem: () => {
        throw new Error('quota');
      },
      removeItem: () => {
        throw new Error('denied');
      },
    };
    const root = fakeRoot();
    const controller = createThemeController({ storage: broken, query: null, root });
    controller.set('dark');
    expect(controller.state.preference).toBe('dark');
    expect(root.attributes.get('data-theme')).toBe('dark');
  });

  it('stops following the system and its listeners on dispose', () => {
    const { controller, query, seen } = setup(null, false);
    controller.dispose();
    expect(query.listeners.size).toBe(0);
    query.flip(true);
    expect(seen).toEqual([]);
  });

  it('unsubscribes one listener', () => {
    const { controller } = setup(null, false);
    const calls: ThemeState[] = [];
    const stop = controller.subscribe((state) => calls.push(state));
    controller.set('dark');
    stop();
    controller.set('light');
    expect(calls).toEqual([{ preference: 'dark', mode: 'dark' }]);
  });
});
