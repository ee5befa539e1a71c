import type { ThemeColors } from './theme';

/**
 * An ECharts theme from the page's colours: text and axes in the theme's foreground, muted and
 * border colours, a transparent background (the panel's surface shows through), the tooltip
 * on the surface colour, and the theme's series palette.
 */
export function chartTheme(colors: ThemeColors, dark: boolean): Record<string, unknown> {
  const axis = {
    axisLine: { lineStyle: { color: colors.border } },
    axisTick: { lineStyle: { color: colors.border } },
    axisLabel: { color: colors.muted },
    splitLine: { lineStyle: { color: colors.border } },
    nameTextStyle: { color: colors.muted },
  };
  return {
    darkMode: dark,
    color: [...colors.palette],
    backgroundColor: 'transparent',
    textStyle: { color: colors.fg },
    legend: {
      textStyle: { color: colors.fg },
      pageTextStyle: { color: colors.muted },
      pageIconColor: colors.fg,
      pageIconInactiveColor: colors.border,
    },
    tooltip: {
      backgroundColor: colors.surface,
      borderColor: colors.border,
      textStyle: { color: colors.fg },
    },
    axisPointer: { lineStyle: { color: colors.muted }, label: { color: colors.fg } },
    timeAxis: axis,
    valueAxis: axis,
    categoryAxis: axis,
    dataZoom: {
      borderColor: colors.border,
      textStyle: { color: colors.muted },
      dataBackground: { lineStyle: { color: colors.muted }, areaStyle: { color: colors.border } },
    },
    line: { symbol: 'none' },
  };
}
