import { createPinia } from 'pinia';
import { createApp } from 'vue';
import App from './App.vue';
import { installAuthGuard, router } from './router';
import { useAuthStore } from './stores/auth';
import { useMetricsStore } from './stores/metrics';
import './style.css';

const pinia = createPinia();
const app = createApp(App).use(pinia);
// The guard must be in place before the router's first navigation, which `use(router)` starts.
installAuthGuard(router, useAuthStore(pinia));
app.use(router).mount('#app');

declare global {
  interface Window {
    /**
     * The live state, for the browser console and the browser tests: what the page already
     * shows (the metrics store; never the token).
     */
    readonly livestat: { readonly metrics: ReturnType<typeof useMetricsStore> };
  }
}
Object.defineProperty(window, 'livestat', {
  value: Object.freeze({ metrics: useMetricsStore(pinia) }),
});
