import { createRouter, createWebHistory } from 'vue-router';
import DashboardView from './views/DashboardView.vue';

/** The app's routes; login and history join when their issues land. */
export const router = createRouter({
  history: createWebHistory(import.meta.env.BASE_URL),
  routes: [
    { path: '/', name: 'dashboard', component: DashboardView },
    { path: '/:pathMatch(.*)*', redirect: { name: 'dashboard' } },
  ],
});
