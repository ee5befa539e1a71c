import {
  BrushComponent,
  DataZoomComponent,
  LegendComponent,
  TooltipComponent,
} from 'echarts/components';
import { use } from 'echarts/core';
import '../../lib/echarts';

// What only the history charts draw — ECharts' tooltip (with its axis pointer), legend, data
// zoom and the brush that selects a range. Imported by the history chart alone, so these land
// in the lazy history route's chunk and the dashboard route never downloads them (its legend
// and tooltip are HTML).
use([TooltipComponent, LegendComponent, DataZoomComponent, BrushComponent]);
