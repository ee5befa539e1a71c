import { LineChart } from 'echarts/charts';
import { GridSimpleComponent } from 'echarts/components';
import { registerTheme, use } from 'echarts/core';
import { CanvasRenderer } from 'echarts/renderers';
import { chartTheme } from './chart-theme';
import { CHART_THEMES, THEME_COLORS } from './theme';

// The one place ECharts is assembled, and only from what is drawn: the bundle is benchmarked
// against one carrying all of ECharts. The live panels need lines on a grid on a canvas —
// their legend and tooltip are HTML (LiveChart.vue), so ECharts' legend, tooltip and axis
// pointer stay out of the dashboard route. GridSimple is the grid without the axis pointer.
// MarkArea, which draws the alerts' periods, comes when there is one (`loadMarkArea`).
use([LineChart, GridSimpleComponent, CanvasRenderer]);

let markArea: Promise<void> | undefined;
let markAreaIn = false;

/**
 * Registers ECharts' marked areas (`markArea`, the alerts' periods): what `./echarts-mark-area`
 * runs. It goes through this module so that the chunk depends on it, and the route's ECharts
 * parts stay in one chunk instead of being split by who else uses them.
 */
export function registerMarkArea(install: Parameters<typeof use>[0]): void {
  use(install);
  markAreaIn = true;
}

/** Whether ECharts can draw marked areas yet. */
export function hasMarkArea(): boolean {
  return markAreaIn;
}

/**
 * Registers ECharts' marked areas, fetching their chunk the first time (3 KB gzip the dashboard
 * route would otherwise carry for alerts that may never fire). A failed fetch is tried again
 * at the next call.
 */
export function loadMarkArea(): Promise<void> {
  markArea ??= import('./echarts-mark-area').then(
    () => undefined,
    (error: unknown) => {
      markArea = undefined;
      throw error;
    },
  );
  return markArea;
}

registerTheme(CHART_THEMES.light, chartTheme(THEME_COLORS.light, false));
registerTheme(CHART_THEMES.dark, chartTheme(THEME_COLORS.dark, true));

/** The registered ECharts theme name for a page theme (light/dark): what `VChart`'s `theme` takes. */
export { CHART_THEMES, chartThemeName } from './theme';
