/** What the user picked: follow the system, or force one theme. */
export type ThemePreference = 'system' | 'light' | 'dark';
/** The theme actually shown. */
export type ThemeMode = 'light' | 'dark';

/** The choices the theme toggle offers, in its order. */
export const THEME_PREFERENCES: readonly ThemePreference[] = ['system', 'light', 'dark'];
/** Where the choice is kept between page loads. */
export const THEME_STORAGE_KEY = 'livestat.theme';
/** The media query that says the system wants dark. */
export const DARK_SCHEME_QUERY = '(prefers-color-scheme: dark)';

/**
 * The colours of each theme as `src/style.css` defines them (`--fg`, `--muted`, …), for what
 * cannot read CSS variables: the canvas charts. Keep the two in step.
 */
export interface ThemeColors {
  bg: string;
  surface: string;
  border: string;
  fg: string;
  muted: string;
  /** The series colours of charts, in order. */
  palette: readonly string[];
}

export const THEME_COLORS: Readonly<Record<ThemeMode, ThemeColors>> = {
  light: {
    bg: '#f5f7fa',
    surface: '#ffffff',
    border: '#d9dee7',
    fg: '#1b2330',
    muted: '#5b6678',
    palette: [
      '#2f7de1',
      '#e8684a',
      '#1f8a4c',
      '#b26a00',
      '#8e5ad8',
      '#12939a',
      '#d6458a',
      '#5b6678',
    ],
  },
  dark: {
    bg: '#0f141b',
    surface: '#171e28',
    border: '#2a3442',
    fg: '#e6ebf2',
    muted: '#98a3b4',
    palette: [
      '#5ea1f7',
      '#f28b6c',
      '#4cc38a',
      '#f0b44c',
      '#b18cf2',
      '#3cc7cf',
      '#f27bb3',
      '#98a3b4',
    ],
  },
};

/** The ECharts theme registered (by `lib/echarts.ts`) for each page theme. */
export const CHART_THEMES: Readonly<Record<ThemeMode, string>> = {
  light: 'livestat-light',
  dark: 'livestat-dark',
};

/** The ECharts theme name for a page theme: what `VChart`'s `theme` takes. */
export function chartThemeName(mode: ThemeMode): string {
  return CHART_THEMES[mode];
}

/** A stored value as a preference; anything unknown (or nothing) means `system`. */
export function parseThemePreference(raw: unknown): ThemePreference {
  return raw === 'light' || raw === 'dark' ? raw : 'system';
}

/** The theme shown for a preference, given whether the system asks for dark. */
export function resolveThemeMode(preference: ThemePreference, systemDark: boolean): ThemeMode {
  if (preference === 'system') return systemDark ? 'dark' : 'light';
  return preference;
}

/**
 * The `data-theme` attribute `<html>` carries for a preference: none while following the system
 * (the stylesheet's `prefers-color-scheme` rule applies), else the forced theme, which the
 * stylesheet lets win over the system's.
 */
export function themeAttribute(preference: ThemePreference): ThemeMode | null {
  return preference === 'system' ? null : preference;
}

/** The preference and the theme it shows. */
export interface ThemeState {
  preference: ThemePreference;
  mode: ThemeMode;
}

/** The part of `MediaQueryList` the controller listens to. */
export interface DarkSchemeQuery {
  readonly matches: boolean;
  addEventListener(type: 'change', listener: () => void): void;
  removeEventListener(type: 'change', listener: () => void): void;
}

/** What the controller runs on; each part may be missing (Node, a sandboxed frame). */
export interface ThemeEnvironment {
  storage: Pick<Storage, 'getItem' | 'setItem' | 'removeItem'> | null;
  query: DarkSchemeQuery | null;
  root: Pick<Element, 'setAttribute' | 'removeAttribute'> | null;
}

/** The page's theme: the stored choice applied to `<html>`, following the system while asked to. */
export interface ThemeController {
  readonly state: ThemeState;
  /** Picks a theme: stored, applied to `<html>` and announced. */
  set(preference: ThemePreference): void;
  /** Calls `listener` on every change of preference or shown theme; returns the unsubscribe. */
  subscribe(listener: (state: ThemeState) => void): () => void;
  /** Stops following the system. */
  dispose(): void;
}

function readStored(storage: ThemeEnvironment['storage']): string | null {
  try {
    return storage?.getItem(THEME_STORAGE_KEY) ?? null;
  } catch {
    return null;
  }
}

/**
 * Creates the theme controller: reads the stored preference, applies it to the root at once and
 * follows the system's scheme while the preference is `system`. Storage failures (private
 * mode, a full quota) keep the choice for this page only.
 */
export function createThemeController(env: ThemeEnvironment): ThemeController {
  const listeners = new Set<(state: ThemeState) => void>();
  let preference = parseThemePreference(readStored(env.storage));
  let state: ThemeState = {
    preference,
    mode: resolveThemeMode(preference, env.query?.matches ?? false),
  };

  function apply(): void {
    const attribute = themeAttribute(preference);
    if (attribute === null) env.root?.removeAttribute('data-theme');
    else env.root?.setAttribute('data-theme', attribute);
  }

  function update(): void {
    const next: ThemeState = {
      preference,
      mode: resolveThemeMode(preference, env.query?.matches ?? false),
    };
    if (next.preference === state.preference && next.mode === state.mode) return;
    state = next;
    for (const listener of listeners) listener(state);
  }

  const onSystemChange = (): void => update();
  env.query?.addEventListener('change', onSystemChange);
  apply();

  return {
    get state() {
      return state;
    },
    set(next) {
      preference = next;
      try {
        if (next === 'system') env.storage?.removeItem(THEME_STORAGE_KEY);
        else env.storage?.setItem(THEME_STORAGE_KEY, next);
      } catch {
        // Not kept past this page; still applied.
      }
      apply();
      update();
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    dispose() {
      env.query?.removeEventListener('change', onSystemChange);
      listeners.clear();
    },
  };
}

/** The browser's environment for {@link createThemeController}, or empty parts where missing. */
export function browserThemeEnvironment(): ThemeEnvironment {
  let storage: ThemeEnvironment['storage'];
  try {
    storage = globalThis.localStorage ?? null;
  } catch {
    // Reading localStorage throws in sandboxed frames.
    storage = null;
  }
  const query =
    typeof globalThis.matchMedia === 'function' ? globalThis.matchMedia(DARK_SCHEME_QUERY) : null;
  const root = typeof document === 'undefined' ? null : document.documentElement;
  return { storage, query, root };
}

let shared: ThemeController | null = null;

/**
 * The page's one theme controller, created on first use on the browser's environment: the
 * theme toggle sets it, the app shell follows it to theme the charts.
 */
export function appThemeController(): ThemeController {
  shared ??= createThemeController(browserThemeEnvironment());
  return shared;
}
