import { defineComponent, h } from 'vue';

/**
 * The live charts' EChart (components/EChart.vue) for happy-dom, which has no canvas: it keeps
 * the props a chart is given (read them with `findComponent({ name: 'EChart' }).props('option')`)
 * and takes the `setOption` calls of a `manual-update` chart without drawing (and its zrender's
 * settings).
 */
export const EchartsStub = defineComponent({
  name: 'EChart',
  props: {
    option: { type: Object, default: undefined },
    updateOptions: { type: Object, default: undefined },
    manualUpdate: Boolean,
    autoresize: Boolean,
  },
  setup(_, { expose }) {
    expose({ setOption: () => undefined, getZr: () => ({ setSleepAfterStill: () => undefined }) });
    return () => h('div', { class: 'echarts-stub' });
  },
});
