// @vitest-environment happy-dom
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { flushPromises, mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createMemoryHistory, createRouter } from 'vue-router';
import AlertBell from './AlertBell.vue';
import RuleForm from './RuleForm.vue';
import RulesTab from './RulesTab.vue';
import { createAlertsClient } from './alerts-client';
import { defineAlertsStore } from './alerts-store';
import { activeAlertAt, ruleOf } from './test-data';

const TOKEN = 'alerts-test-token';

/** One request the server saw: method, path and JSON body. */
interface Seen {
  method: string;
  path: string;
  body: unknown;
}

/**
 * The alerts routes on a real HTTP server. (`src/test/api-server.ts` cannot load under
 * happy-dom: `ws` resolves to its browser build there.) `answer` decides each reply.
 */
async function startServer(answer: (seen: Seen) => { status: number; body?: unknown }) {
  const seen: Seen[] = [];
  const http = createServer((req, res) => {
    // happy-dom's fetch enforces CORS, and the page's origin is not this server's.
    const cors = {
      'access-control-allow-origin': '*',
      'access-control-allow-headers': 'authorization, accept, content-type',
      'access-control-allow-methods': 'GET, POST, PUT, DELETE',
    };
    if (req.method === 'OPTIONS') {
      res.writeHead(204, cors).end();
      return;
    }
    let text = '';
    req.on('data', (chunk: Buffer) => (text += chunk.toString()));
    req.on('end', () => {
      const request = {
        method: req.method ?? '',
        path: new URL(req.url ?? '/', 'http://localhost').pathname,
        body: text === '' ? undefined : (JSON.parse(text) as unknown),
      };
      seen.push(request);
      const reply =
        req.headers.authorization === `Bearer ${TOKEN}`
          ? answer(request)
          : { status: 401, body: { error: 'invalid token' } };
      res
        .writeHead(reply.status, { ...cors, 'content-type': 'application/json' })
        .end(JSON.stringify(reply.body ?? {}));
    });
  });
  http.listen(0, '127.0.0.1');
  await once(http, 'listening');
  return {
    baseUrl: `http://127.0.0.1:${(http.address() as AddressInfo).port}`,
    seen,
    close: () => {
      http.closeAllConnections();
      return new Promise((resolve) => http.close(resolve));
    },
  };
}

let server: Awaited<ReturnType<typeof startServer>> | undefined;

beforeEach(() => setActivePinia(createPinia()));
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** The app's alerts store, talking to `baseUrl` with the test token. */
function alertsOn(baseUrl: string) {
  const client = createAlertsClient({ baseUrl, getToken: () => TOKEN });
  return defineAlertsStore({ client, pollIntervalMs: 60_000 })();
}

function router() {
  return createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: '/', component: { template: '<div />' } },
      { path: '/alerts', name: 'alerts', component: { template: '<div />' } },
    ],
  });
}

describe('AlertBell', () => {
  it('stays hidden until the API has told the list, then counts the firing, coloured by the worst', async () => {
    const answers = { active: [] as unknown[] };
    server = await startServer((seen) =>
      seen.path === '/api/alerts' ? { status: 200, body: answers } : { status: 404 },
    );
    const alerts = alertsOn(server.baseUrl);
    const wrapper = mount(AlertBell, { global: { plugins: [router()] } });
    expect(wrapper.find('[data-testid="alert-bell"]').exists()).toBe(false);

    await vi.waitUntil(() => alerts.available);
    await flushPromises();
    const bell = wrapper.find('[data-testid="alert-bell"]');
    expect(bell.attributes('href')).toBe('/alerts');
    expect(bell.attributes('aria-label')).toBe('0 alerts firing');
    expect(bell.find('.count').exists()).toBe(false);

    alerts.active = [
      activeAlertAt(0, { host: 'a', severity: 'warning' }),
      activeAlertAt(0, { host: 'b', severity: 'critical' }),
      activeAlertAt(0, { host: 'c', severity: 'critical', silenced: true }),
    ];
    await flushPromises();
    expect(bell.find('.count').text()).toBe('2');
    expect(bell.classes()).toContain('critical');
    expect(bell.attributes('aria-label')).toBe('2 alerts firing, 1 silenced');
    wrapper.unmount();
  });
});

describe('RuleForm', () => {
  it('shows the schema’s message beside the field, and sends nothing while one is wrong', async () => {
    server = await startServer(() => ({ status: 500 }));
    alertsOn(server.baseUrl);
    const wrapper = mount(RuleForm);
    await wrapper.find('input[name="name"]').setValue('Busy');
    await wrapper.find('input[name="threshold"]').setValue('a lot');
    await wrapper.find('form').trigger('submit');
    await flushPromises();
    expect(wrapper.find('[data-field="threshold"] .field-error').text()).toBe('must be a number');
    expect(wrapper.find('[data-field="threshold"]').attributes('data-invalid')).toBe('true');
    expect(wrapper.find('[data-field="name"] .field-error').exists()).toBe(false);
    expect(server.seen).toEqual([]);

    // Fixed as typed: the message goes.
    await wrapper.find('input[name="threshold"]').setValue('90');
    expect(wrapper.find('[data-field="threshold"] .field-error').exists()).toBe(false);
  });

  it('puts the API’s 400 on the field it names', async () => {
    server = await startServer(() => ({
      status: 400,
      body: { error: 'hosts: host "web 1" is not a host name' },
    }));
    alertsOn(server.baseUrl);
    const saved = vi.fn();
    const wrapper = mount(RuleForm, { props: { onSaved: saved } });
    await wrapper.find('input[name="name"]').setValue('Busy');
    await wrapper.find('form').trigger('submit');
    await vi.waitUntil(() => wrapper.find('[data-field="hosts"] .field-error').exists());
    expect(wrapper.find('[data-field="hosts"] .field-error').text()).toBe(
      'host "web 1" is not a host name',
    );
    expect(server.seen).toEqual([
      expect.objectContaining({
        method: 'POST',
        path: '/api/alerts/rules',
        body: expect.objectContaining({ name: 'Busy', series: 'cpu.usagePercent', threshold: 90 }),
      }),
    ]);
    expect(saved).not.toHaveBeenCalled();
  });
});

describe('RulesTab', () => {
  const rules = [
    ruleOf(),
    ruleOf({ id: 'hd', name: 'Host down', description: '', builtin: 'host_down', series: '' }),
  ];

  it('shows a viewer each rule and its sentence, with no way to change them', async () => {
    server = await startServer(() => ({ status: 200, body: { rules } }));
    alertsOn(server.baseUrl);
    const wrapper = mount(RulesTab, { props: { admin: false } });
    await vi.waitUntil(() => wrapper.findAll('[data-rule]').length === 2);
    expect(wrapper.find('[data-rule="CPU busy"] .description').text()).toBe(
      'The CPU has been busy for a quarter of an hour.',
    );
    expect(wrapper.find('[data-rule="Host down"] .description').text()).toBe(
      'Alert when a host sends no snapshot for 15 m or more.',
    );
    expect(wrapper.findAll('button')).toHaveLength(0);
    expect(wrapper.find('form').exists()).toBe(false);
  });

  it('gives an admin edit and enable for every rule, and delete for all but the built-in', async () => {
    server = await startServer(() => ({ status: 200, body: { rules } }));
    alertsOn(server.baseUrl);
    const wrapper = mount(RulesTab, { props: { admin: true } });
    await vi.waitUntil(() => wrapper.findAll('[data-rule]').length === 2);
    const actions = (rule: string) =>
      wrapper
        .findAll(`[data-rule="${rule}"] [data-action]`)
        .map((b) => b.attributes('data-action'));
    expect(actions('CPU busy')).toEqual(['toggle', 'edit', 'delete']);
    expect(actions('Host down')).toEqual(['toggle', 'edit']);
    expect(wrapper.find('[data-action="new-rule"]').exists()).toBe(true);
  });
});
