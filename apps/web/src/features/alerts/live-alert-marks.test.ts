import type { LineSeriesOption } from 'echarts/charts';
import { init, use } from 'echarts/core';
import { SVGRenderer } from 'echarts/renderers';
import { describe, expect, it } from 'vitest';
import { computed } from 'vue';
import { hasMarkArea, loadMarkArea } from '../../lib/echarts';
import { alertMarkArea, liveAlertMarks, ALERT_MARKS_ID, FIRING_OPACITY } from './alert-marks';
import type { AlertPeriod } from './alert-periods';
import { SEVERITY_COLORS } from './severity';

// Its own file: the registration of ECharts' marked areas is the module's state, and these
// tests follow it from before the fetch to after.
use([SVGRenderer]);

const firing: AlertPeriod = {
  ruleId: 'rule-cpu',
  ruleName: 'CPU busy',
  host: 'vm-web-01',
  series: 'cpu.usagePercent',
  severity: 'critical',
  start: 4000,
  end: null,
};
const cpuChart = { host: 'vm-web-01', paths: ['cpu.usagePercent'], from: 0, to: 10_000 };

/** The chart ECharts draws, as SVG, for a line and the alert series `marks` (if any). */
function drawn(marks: LineSeriesOption | undefined): string {
  const chart = init(null, null, { renderer: 'svg', ssr: true, width: 400, height: 200 });
  chart.setOption({
    animation: false,
    grid: { left: 30, right: 10, top: 10, bottom: 20 },
    xAxis: { type: 'time', min: 0, max: 10_000 },
    yAxis: { type: 'value', min: 0, max: 100 },
    series: [
      {
        id: 'cpu.usagePercent',
        type: 'line',
        data: [
          [0, 10],
          [10_000, 20],
        ],
      },
      ...(marks === undefined ? [] : [marks]),
    ],
  });
  const svg = chart.renderToSVGString();
  chart.dispose();
  return svg;
}

describe('liveAlertMarks', () => {
  it('has no series and fetches nothing while there is no period to mark', () => {
    expect(liveAlertMarks(alertMarkArea([], cpuChart))).toBeUndefined();
    expect(hasMarkArea()).toBe(false);
    // Without the component ECharts ignores marked areas: nothing of them is drawn.
    const markArea = alertMarkArea([firing], cpuChart);
    expect(drawn({ id: ALERT_MARKS_ID, type: 'line', data: [], markArea })).not.toContain(
      'CPU busy',
    );
  });

  it('fetches the marked areas for the first period, and the chart waiting for them redraws', async () => {
    const markArea = alertMarkArea([firing], cpuChart);
    const marks = computed(() => liveAlertMarks(markArea));
    expect(marks.value).toBeUndefined();
    await loadMarkArea();
    expect(hasMarkArea()).toBe(true);
    // The computed option read the loaded flag: it is computed again, now with the series.
    expect(marks.value).toMatchObject({ id: ALERT_MARKS_ID, data: [], markArea });
    const svg = drawn(marks.value);
    expect(svg).toContain('CPU busy');
    // The area spans 4 s → 10 s of the 0–10 s axis (x 31.2 → 390), the grid's full height, in
    // the severity's colour, as strong as a firing period is.
    expect(svg).toContain(
      `<polygon points="174.7 180 390 180 390 10 174.7 10" fill="${SEVERITY_COLORS.critical}" fill-opacity="${FIRING_OPACITY}"`,
    );
  });

  it('gives an empty series once loaded, so a chart keeps its series when periods end', () => {
    expect(liveAlertMarks(alertMarkArea([], cpuChart))).toMatchObject({
      id: ALERT_MARKS_ID,
      markArea: { data: [] },
    });
  });
});
