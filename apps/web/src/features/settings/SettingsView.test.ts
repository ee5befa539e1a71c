// @vitest-environment happy-dom
import type { ApiTokenInfo, Role, UserSummary } from '@livestat/contracts';
import { flushPromises, mount, type VueWrapper } from '@vue/test-utils';
import { createPinia, setActivePinia, type Pinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRequest } from '../../lib/api';
import { useAuthStore } from '../../stores/auth';
import { startJsonServer, type JsonReply } from '../../test/json-server';
import SettingsView from './SettingsView.vue';

const TOKEN = 'settings-test-token';
const NOW = '2026-12-04T21:00:00.000Z';

/**
 * The admin routes on a real HTTP server, keeping users and tokens in memory with the API's
 * rule that matters to the view: the last admin is never removed or demoted (409).
 */
async function startAdminServer() {
  const users: UserSummary[] = [
    { id: 1, username: 'root', role: 'admin', createdAt: NOW },
    { id: 2, username: 'watcher', role: 'viewer', createdAt: NOW },
  ];
  const tokens: ApiTokenInfo[] = [];
  const passwords = new Map<number, string>();
  const http = await startJsonServer(({ method, path, body: json }): JsonReply => {
    const body = (json ?? {}) as Record<string, string>;
    const id = Number(path.split('/')[3]);
    const user = users.find((u) => u.id === id);
    const admins = users.filter((u) => u.role === 'admin').length;
    switch (`${method} ${path.replace(/\/\d+/, '/:id')}`) {
      case 'GET /api/users':
        return { status: 200, body: { users } };
      case 'POST /api/users': {
        const created = {
          id: users.length + 1,
          username: body.username!,
          role: body.role as Role,
          createdAt: NOW,
        };
        users.push(created);
        return { status: 201, body: { user: created } };
      }
      case 'PATCH /api/users/:id':
        if (user!.role === 'admin' && body.role === 'viewer' && admins === 1) {
          return {
            status: 409,
            body: { error: `"${user!.username}" is the only admin; make another user admin first` },
          };
        }
        user!.role = body.role as Role;
        return { status: 200, body: { user } };
      case 'POST /api/users/:id/password':
        passwords.set(id, body.password!);
        return { status: 204 };
      case 'DELETE /api/users/:id':
        if (user!.role === 'admin' && admins === 1) {
          return {
            status: 409,
            body: { error: `"${user!.username}" is the only admin; add another admin first` },
          };
        }
        users.splice(users.indexOf(user!), 1);
        return { status: 204 };
      case 'GET /api/tokens':
        return { status: 200, body: { tokens: [...tokens].reverse() } };
      case 'POST /api/tokens': {
        const token = `lsk_${'A'.repeat(39)}${String(tokens.length + 1).padStart(4, '0')}`;
        const info: ApiTokenInfo = {
          id: tokens.length + 1,
          name: body.name!,
          scope: 'ingest',
          prefix: token.slice(0, 8),
          createdAt: NOW,
          createdBy: 'root',
          lastUsedAt: null,
          revokedAt: null,
        };
        tokens.push(info);
        return { status: 201, body: { token, info } };
      }
      case 'DELETE /api/tokens/:id':
        tokens.find((t) => t.id === id)!.revokedAt = NOW;
        return { status: 204 };
      default:
        return { status: 404, body: { error: 'not found' } };
    }
  });
  return { ...http, users, tokens, passwords };
}

let server: Awaited<ReturnType<typeof startAdminServer>>;
let pinia: Pinia;
let wrapper: VueWrapper | undefined;

beforeEach(async () => {
  server = await startAdminServer();
  pinia = createPinia();
  setActivePinia(pinia);
});

afterEach(async () => {
  wrapper?.unmount();
  wrapper = undefined;
  await server.close();
});

async function mountAs(role: Role): Promise<VueWrapper> {
  const auth = useAuthStore();
  auth.setSession({
    token: TOKEN,
    expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
    user: { id: 1, username: 'root', role },
  });
  const request = createRequest({ baseUrl: server.baseUrl, getToken: () => TOKEN });
  wrapper = mount(SettingsView, { props: { request }, global: { plugins: [pinia] } });
  // Both sections have loaded once the lists or their empty states are there.
  for (let i = 0; i < 200 && role === 'admin'; i++) {
    await settle();
    if (wrapper.find('tr[data-user]').exists() && wrapper.text().match(/No tokens yet|Last used/))
      break;
  }
  return wrapper;
}

async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) {
    await flushPromises();
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const buttonNamed = (view: VueWrapper, name: string) => {
  const button = view.findAll('button').find((b) => b.text() === name);
  if (!button) throw new Error(`no button "${name}"`);
  return button;
};

describe('SettingsView', () => {
  it('tells a viewer it is for admins only, and asks the API nothing', async () => {
    const view = await mountAs('viewer');
    expect(view.get('[data-testid="admins-only"]').text()).toContain('admins only');
    expect(view.find('[data-testid="users-table"]').exists()).toBe(false);
  });

  it('adds a user, and changes a role only once confirmed', async () => {
    const view = await mountAs('admin');
    const rows = () =>
      view.findAll('[data-testid="users-table"] tbody tr').map((r) => r.attributes('data-user'));
    expect(rows()).toEqual(['root', 'watcher']);

    const [name, password] = view.findAll('.add-form input');
    await name!.setValue('carol');
    await password!.setValue('long-enough-1');
    await view.get('.add-form').trigger('submit');
    await settle();
    expect(rows()).toEqual(['root', 'watcher', 'carol']);
    expect(view.text()).toContain('Added viewer "carol".');

    await view.get('select[aria-label="Role of watcher"]').setValue('admin');
    expect(server.users[1]!.role).toBe('viewer');
    expect(view.get('[aria-label="Confirm the change"]').text()).toContain('Make watcher admin?');
    await buttonNamed(view, 'Change role').trigger('click');
    await settle();
    expect(server.users[1]!.role).toBe('admin');
  });

  it('shows the 409 when the last admin would be removed, and keeps it', async () => {
    const view = await mountAs('admin');
    const rootRow = view.get('tr[data-user="root"]');
    await rootRow
      .findAll('button')
      .find((b) => b.text() === 'Remove')!
      .trigger('click');
    expect(view.get('[aria-label="Confirm the change"]').text()).toContain('Remove root?');
    await view.get('[aria-label="Confirm the change"] .primary').trigger('click');
    await settle();
    expect(view.get('[data-testid="users-error"]').text()).toBe(
      '"root" is the only admin; add another admin first',
    );
    expect(server.users.map((u) => u.username)).toEqual(['root', 'watcher']);
  });

  it('resets a password after confirmation', async () => {
    const view = await mountAs('admin');
    const row = view.get('tr[data-user="watcher"]');
    await row
      .findAll('button')
      .find((b) => b.text() === 'Reset password')!
      .trigger('click');
    await view.get('[aria-label="Confirm the change"] input').setValue('brand-new-pass');
    await buttonNamed(view, 'Set password').trigger('click');
    await settle();
    expect(server.passwords.get(2)).toBe('brand-new-pass');
    expect(view.text()).toContain('Set a new password for "watcher".');
  });

  it('creates a token, shows it once, lists it, and revokes it after confirmation', async () => {
    const view = await mountAs('admin');
    expect(view.text()).toContain('No tokens yet');
    const form = view.findAll('form').find((f) => f.text().includes('Create ingest token'))!;
    await form.get('input').setValue('queue-worker');
    await form.trigger('submit');
    await settle();
    const shown = view.get('[data-testid="new-token"]');
    expect(shown.text()).toContain('will not be shown again');
    expect(view.get('[data-testid="token-value"]').text()).toMatch(/^lsk_A+0001$/);
    expect(view.get('tr[data-token="queue-worker"]').text()).toContain('lsk_AAAA…');
    expect(view.get('tr[data-token="queue-worker"]').text()).toContain('never');

    await buttonNamed(view, 'Done').trigger('click');
    expect(view.find('[data-testid="new-token"]').exists()).toBe(false);
    expect(view.html()).not.toContain('0001');

    await view.get('tr[data-token="queue-worker"] button').trigger('click');
    await buttonNamed(view, 'Revoke').trigger('click');
    await settle();
    expect(server.tokens[0]!.revokedAt).toBe(NOW);
    expect(view.get('tr[data-token="queue-worker"]').text()).toContain('revoked');
  });
});
