import { createPinia } from 'pinia';
import { createApp } from 'vue';
import App from './App.vue';
import { installAuthGuard, router } from './router';
import { useAuthStore } from './stores/auth';
import './style.css';

const pinia = createPinia();
const app = createApp(App).use(pinia);
// The guard must be in place before the router's first navigation, which `use(router)` starts.
installAuthGuard(router, useAuthStore(pinia));
app.use(router).mount('#app');
