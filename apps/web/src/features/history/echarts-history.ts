import {
  BrushComponent,
  DataZoomComponent,
  LegendComponent,
  TooltipComponent,
} from 'echarts/components';
import { registerPreprocessor, use } from 'echarts/core';
import '../../lib/echarts';
// History marks its alerts' periods from its first draw: marked areas come with its chunk.
import '../../lib/echarts-mark-area';

// What only the history charts draw — ECharts' tooltip (with its axis pointer), legend, data
// zoom and the brush that selects a range. Imported by the history chart alone, so these land
// in the lazy history route's chunk and the dashboard route never downloads them (its legend
// and tooltip are HTML).
use([TooltipComponent, LegendComponent, DataZoomComponent, BrushComponent]);

// The brush adds a toolbox of its buttons to every option it is in; the charts take the brush's
// cursor themselves and show no toolbox, so it goes before ECharts looks for a toolbox
// component (which is not loaded, and would be said so on the console).
registerPreprocessor((option) => {
  if (option && 'brush' in option) delete (option as { toolbox?: unknown }).toolbox;
});
