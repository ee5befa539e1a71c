import type { InjectionKey } from 'vue';

/**
 * What a click on a live chart's plot does with the moment under the pointer (epoch ms): the
 * dashboard provides it to show the top processes then. Charts outside it (none yet) ignore
 * clicks.
 */
export const PICK_MOMENT: InjectionKey<(time: number) => void> = Symbol('pick-moment');
