// @vitest-environment happy-dom
import type { HealthResponse } from '@livestat/contracts';
import { flushPromises, mount } from '@vue/test-utils';
import { afterEach, describe, expect, it, vi } from 'vitest';
import HealthCard from './HealthCard.vue';

const healthy: HealthResponse = {
  status: 'ok',
  version: '0.1.0',
  host: 'web-1',
  uptimeSeconds: 3600,
  database: 'up',
  redis: 'not_configured',
  websocketConnections: 2,
  sampler: {
    seq: 3600,
    lastSnapshotAt: '2026-01-01T00:00:00.000Z',
    skippedTicksLastMinute: 0,
    skippedTicksTotal: 4,
  },
  eventLoop: { lagMs: 1.2, maxLagMs: 35 },
  reasons: [],
};

/** Mounts the card against an API whose /api/health answers `body` (503 when degraded). */
async function mountWith(body: unknown) {
  vi.stubGlobal(
    'fetch',
    async () =>
      new Response(JSON.stringify(body), {
        status: (body as HealthResponse).status === 'ok' ? 200 : 503,
        headers: { 'content-type': 'application/json' },
      }),
  );
  const wrapper = mount(HealthCard);
  await flushPromises();
  return wrapper;
}

const fact = (wrapper: Awaited<ReturnType<typeof mountWith>>, name: string) =>
  wrapper.find(`[data-fact="${name}"]`);
/** A fact as `label: value`, whitespace squashed. */
const factText = (wrapper: Awaited<ReturnType<typeof mountWith>>, name: string) => {
  const found = fact(wrapper, name);
  return `${found.find('dt').text()}: ${found.find('dd').text().replace(/\s+/g, ' ').trim()}`;
};

describe('HealthCard: the API’s own rhythm', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('shows skipped ticks and event-loop lag, unflagged, on a healthy API', async () => {
    const wrapper = await mountWith(healthy);
    expect(wrapper.find('.badge').text()).toBe('OK');
    expect(factText(wrapper, 'skipped-ticks')).toBe('Skipped ticks (1 min): 0 · 4 since start');
    expect(factText(wrapper, 'event-loop')).toBe('Event-loop lag: p99 1 ms · max 35 ms');
    expect(fact(wrapper, 'skipped-ticks').attributes('data-flagged')).toBe('false');
    expect(fact(wrapper, 'event-loop').attributes('data-flagged')).toBe('false');
    expect(wrapper.find('.reasons').exists()).toBe(false);
    expect(wrapper.findAll('.facts .warn')).toHaveLength(0);
    wrapper.unmount();
  });

  it('marks what is abnormal and lists the API’s reasons when degraded', async () => {
    const reasons = [
      'sampler skipped 127 ticks in the last minute (snapshots lost)',
      'event loop stalled for 18.2 s in the last minute',
    ];
    const wrapper = await mountWith({
      ...healthy,
      status: 'degraded',
      sampler: { ...healthy.sampler, skippedTicksLastMinute: 127, skippedTicksTotal: 131 },
      eventLoop: { lagMs: 12, maxLagMs: 18_200 },
      reasons,
    });
    expect(wrapper.find('.badge').text()).toBe('Degraded');
    expect(wrapper.findAll('.reasons li').map((li) => li.text())).toEqual(reasons);
    const skipped = fact(wrapper, 'skipped-ticks');
    expect(skipped.attributes('data-flagged')).toBe('true');
    expect(skipped.find('dd').classes()).toContain('warn');
    expect(factText(wrapper, 'skipped-ticks')).toBe('Skipped ticks (1 min): 127 · 131 since start');
    const lag = fact(wrapper, 'event-loop');
    expect(lag.attributes('data-flagged')).toBe('true');
    expect(lag.find('dd').classes()).toContain('warn');
    expect(factText(wrapper, 'event-loop')).toBe('Event-loop lag: p99 12 ms · max 18.2 s');
    wrapper.unmount();
  });

  it('flags a sustained lag by its p99 alone', async () => {
    const wrapper = await mountWith({
      ...healthy,
      status: 'degraded',
      eventLoop: { lagMs: 250, maxLagMs: 600 },
      reasons: ['event-loop lag p99 250 ms (over 200 ms)'],
    });
    expect(fact(wrapper, 'event-loop').attributes('data-flagged')).toBe('true');
    expect(fact(wrapper, 'skipped-ticks').attributes('data-flagged')).toBe('false');
    expect(wrapper.find('.reasons').text()).toBe('event-loop lag p99 250 ms (over 200 ms)');
    wrapper.unmount();
  });

  it('still reads an older API that sends none of these figures', async () => {
    const { eventLoop: _lag, reasons: _reasons, ...older } = healthy;
    const wrapper = await mountWith({
      ...older,
      status: 'degraded',
      database: 'down',
      sampler: { seq: 5, lastSnapshotAt: null },
    });
    expect(wrapper.find('.badge').text()).toBe('Degraded');
    expect(wrapper.text()).toContain('down');
    expect(fact(wrapper, 'skipped-ticks').exists()).toBe(false);
    expect(fact(wrapper, 'event-loop').exists()).toBe(false);
    expect(wrapper.find('.reasons').exists()).toBe(false);
    wrapper.unmount();
  });
});
