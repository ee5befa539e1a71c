import { LineChart } from 'echarts/charts';
import { GridSimpleComponent, MarkAreaComponent } from 'echarts/components';
import { registerTheme, use } from 'echarts/core';
import { CanvasRenderer } from 'echarts/renderers';
import { chartTheme } from './chart-theme';
import { CHART_THEMES, THEME_COLORS } from './theme';

// The one place ECharts is assembled, and only from what is drawn: the bundle is benchmarked
// against one carrying all of ECharts. The live panels need lines on a grid on a canvas —
// their legend and tooltip are HTML (LiveChart.vue), so ECharts' legend, tooltip and axis
// pointer stay out of the dashboard route. GridSimple is the grid without the axis pointer;
// MarkArea draws the alerts' firing and resolved periods on the live and history charts.
use([LineChart, GridSimpleComponent, MarkAreaComponent, CanvasRenderer]);

registerTheme(CHART_THEMES.light, chartTheme(THEME_COLORS.light, false));
registerTheme(CHART_THEMES.dark, chartTheme(THEME_COLORS.dark, true));

/** The registered ECharts theme name for a page theme (light/dark): what `VChart`'s `theme` takes. */
export { CHART_THEMES, chartThemeName } from './theme';
