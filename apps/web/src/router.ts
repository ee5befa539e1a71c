import { watch } from 'vue';
import { createRouter, createWebHistory } from 'vue-router';
import type { Router } from 'vue-router';
import { guardRoute } from './lib/auth-guard';
import type { AuthStore } from './stores/auth';
import DashboardView from './features/live/DashboardView.vue';
import { parseHistoryQuery } from './features/history/history-link';
import LoginView from './views/LoginView.vue';

declare module 'vue-router' {
  interface RouteMeta {
    /** Reachable without a session (the login page); every other route needs one. */
    public?: boolean;
  }
}

/** The app's routes: every one but the login page needs a session. */
export const router = createRouter({
  history: createWebHistory(import.meta.env.BASE_URL),
  routes: [
    { path: '/login', name: 'login', component: LoginView, meta: { public: true } },
    { path: '/', name: 'dashboard', component: DashboardView },
    // Lazy: the history view's code loads with the route, not with the dashboard.
    {
      path: '/history',
      name: 'history',
      component: () => import('./features/history/HistoryView.vue'),
      // A link's host, series and range (`?host=…&series=…&range=7d`) are the view's start.
      props: (route) => ({ link: parseHistoryQuery(route.query) }),
    },
    { path: '/apps', name: 'apps', component: () => import('./features/apps/AppsView.vue') },
    {
      path: '/alerts',
      name: 'alerts',
      component: () => import('./features/alerts/AlertsView.vue'),
    },
    {
      path: '/settings',
      name: 'settings',
      component: () => import('./features/settings/SettingsView.vue'),
    },
    { path: '/:pathMatch(.*)*', redirect: { name: 'dashboard' } },
  ],
});

/**
 * Guards every route but the login page with the session (see `guardRoute`), and leaves for
 * the login page as soon as the session ends on a guarded route — a 401 or a 1008 close ends
 * it from inside a store, where no navigation happens by itself. Install before the router.
 */
export function installAuthGuard(target: Router, auth: AuthStore): void {
  target.beforeEach((to) => guardRoute(to, auth.isAuthenticated));
  watch(
    () => auth.isAuthenticated,
    (authenticated) => {
      const current = target.currentRoute.value;
      if (authenticated || current.meta.public) return;
      void target.replace({ name: 'login', query: { redirect: current.fullPath } });
    },
  );
}
