// bench/web's baseline build maps exactly `echarts/core` here: the full `echarts` entry, which
// registers every chart, component and renderer, so the same app carries all of ECharts.
export * from 'echarts';
