// The range presets alone, for what links into History from the dashboard (history-link.ts):
// the rest of history-view.ts then loads with the History view, not with the dashboard route.

const HOUR = 3_600_000;

/** The history view's range presets, each ending now. */
export const HISTORY_PRESETS = [
  { id: '1h', label: '1 h', ms: HOUR },
  { id: '6h', label: '6 h', ms: 6 * HOUR },
  { id: '24h', label: '24 h', ms: 24 * HOUR },
  { id: '7d', label: '7 d', ms: 7 * 24 * HOUR },
] as const;
/** One of {@link HISTORY_PRESETS}. */
export type HistoryPresetId = (typeof HISTORY_PRESETS)[number]['id'];
