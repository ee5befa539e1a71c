import { MarkAreaComponent } from 'echarts/components';
import { registerMarkArea } from './echarts';

// ECharts' marked areas — the alerts' firing and resolved periods on the live and history
// charts. A chunk of its own: the dashboard fetches it when a chart first has a period to mark
// (`loadMarkArea`), so a dashboard without alerts never downloads it; the history view, which
// marks its periods from its first draw, imports it with its chunk.
registerMarkArea(MarkAreaComponent);
