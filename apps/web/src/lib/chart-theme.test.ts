import { describe, expect, it } from 'vitest';
import { chartTheme } from './chart-theme';
import { THEME_COLORS } from './theme';

/** The parts of a theme the test reads. */
interface ThemeShape {
  darkMode: boolean;
  backgroundColor: string;
  color: string[];
  textStyle: { color: string };
  legend: { textStyle: { color: string } };
  valueAxis: { axisLabel: { color: string } };
  timeAxis: { splitLine: { lineStyle: { color: string } } };
  tooltip: unknown;
}

describe('chartTheme', () => {
  it('takes text, axis and tooltip colours and the palette from the page theme', () => {
    const dark = THEME_COLORS.dark;
    const theme = chartTheme(dark, true) as unknown as ThemeShape;
    expect(theme.darkMode).toBe(true);
    expect(theme.backgroundColor).toBe('transparent');
    expect(theme.color).toEqual(dark.palette);
    expect(theme.textStyle.color).toBe(dark.fg);
    expect(theme.legend.textStyle.color).toBe(dark.fg);
    expect(theme.valueAxis.axisLabel.color).toBe(dark.muted);
    expect(theme.timeAxis.splitLine.lineStyle.color).toBe(dark.border);
    expect(theme.tooltip).toMatchObject({
      backgroundColor: dark.surface,
      textStyle: { color: dark.fg },
    });
    expect((chartTheme(THEME_COLORS.light, false) as unknown as ThemeShape).textStyle.color).toBe(
      THEME_COLORS.light.fg,
    );
  });
});
