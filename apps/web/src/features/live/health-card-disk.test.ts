// @vitest-environment happy-dom
import type { HealthResponse } from '@livestat/contracts';
import { flushPromises, mount } from '@vue/test-utils';
import { afterEach, describe, expect, it, vi } from 'vitest';
import HealthCard from './HealthCard.vue';

const health = (extra: Partial<HealthResponse>): HealthResponse => ({
  status: 'ok',
  version: '0.1.0',
  host: 'web-1',
  uptimeSeconds: 60,
  database: 'up',
  redis: 'not_configured',
  websocketConnections: 1,
  sampler: { seq: 10, lastSnapshotAt: '2026-01-01T00:00:00.000Z' },
  ...extra,
});

/** Mounts the card against an API whose /api/health answers `body`. */
async function mountWith(body: HealthResponse) {
  vi.stubGlobal(
    'fetch',
    async () =>
      new Response(JSON.stringify(body), {
        status: body.status === 'ok' ? 200 : 503,
        headers: { 'content-type': 'application/json' },
      }),
  );
  const wrapper = mount(HealthCard);
  await flushPromises();
  return wrapper;
}

describe('HealthCard and a full disk', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('says history is paused and how many snapshots wait, while the disk is full', async () => {
    const wrapper = await mountWith(
      health({ status: 'degraded', storage: 'disk full', bufferedSnapshots: 1234 }),
    );
    expect(wrapper.find('.badge').text()).toBe('Degraded');
    expect(wrapper.find('.storage-problem').text()).toBe(
      `Disk full — history paused, ${(1234).toLocaleString()} snapshots buffered`,
    );
    expect(wrapper.text()).toContain('History');
    expect(wrapper.text()).toContain('paused');
    wrapper.unmount();
  });

  it('shows history storing, and no warning, when storage is ok or not reported', async () => {
    const ok = await mountWith(health({ storage: 'ok', bufferedSnapshots: 3 }));
    expect(ok.find('.storage-problem').exists()).toBe(false);
    expect(ok.text()).toContain('storing');
    ok.unmount();
    const older = await mountWith(health({}));
    expect(older.find('.storage-problem').exists()).toBe(false);
    expect(older.text()).not.toContain('History');
    older.unmount();
  });
});
