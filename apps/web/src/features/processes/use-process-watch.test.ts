import type { ProcessesMessage, ProcessSort, Snapshot } from '@livestat/contracts';
import { makeExampleSnapshot } from '@livestat/contracts/examples';
import { createPinia, setActivePinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { effectScope, ref } from 'vue';
import { WebSocket as WsWebSocket } from 'ws';
import type { SocketConstructor } from '../../lib/stream-socket';
import { defineAuthStore } from '../../stores/auth';
import { defineMetricsStore } from '../../stores/metrics';
import { createManualClock, startTestApiServer } from '../../test/api-server';
import type { ManualClock, TestApiServer } from '../../test/api-server';
import { useProcessWatch } from './use-process-watch';

const HOST = 'vm-web-01';
const T0 = Math.floor(Date.now() / 1000) * 1000;
const until = (check: () => boolean) => vi.waitUntil(check, { timeout: 5000, interval: 2 });

let api: TestApiServer;
let clock: ManualClock;
const cleanup: (() => void)[] = [];

beforeEach(async () => {
  api = await startTestApiServer();
  clock = createManualClock(T0);
  setActivePinia(createPinia());
});
afterEach(async () => {
  for (const step of cleanup.splice(0)) step();
  await api.close();
});

/** The metrics store on a real socket to the stand-in API, with a manual clock for retries. */
async function connected() {
  api.setLatest(makeExampleSnapshot({ host: HOST, timestamp: new Date(T0).toISOString() }));
  const useAuth = defineAuthStore({ baseUrl: api.baseUrl, storage: null });
  useAuth().setSession(api.session());
  const metrics = defineMetricsStore({
    useAuth,
    WebSocket: WsWebSocket as unknown as SocketConstructor,
    baseUrl: api.baseUrl,
    clock,
    random: () => 0.5,
    window: null,
  })();
  cleanup.push(() => metrics.stop());
  metrics.start();
  await until(() => metrics.connectionState === 'connected' && metrics.selectedHost === HOST);
  return metrics;
}

function table(sort: ProcessSort, names: string[]): ProcessesMessage {
  return {
    type: 'processes',
    host: HOST,
    timestamp: new Date(T0).toISOString(),
    sort,
    total: 140,
    ioUnavailableReason: null,
    processes: names.map((name, i) => ({
      pid: 100 + i,
      ppid: 1,
      user: 'root',
      name,
      command: `/usr/sbin/${name}`,
      state: 'S',
      threads: 1,
      cpuPercent: 10 - i,
      rssBytes: 1 << 20,
      readBytesPerSec: 0,
      writeBytesPerSec: 0,
      startedAt: new Date(T0 - 60_000).toISOString(),
    })),
  };
}

const processMessages = (socket: number) =>
  (api.sockets[socket]?.received ?? []).filter((m) => m.type.endsWith('_processes'));
const send = (socket: number, message: ProcessesMessage | Snapshot) =>
  api.sockets[socket]!.ws.send(JSON.stringify(message));

describe('useProcessWatch over the real socket', () => {
  it('watches, takes each table, follows the sort, and watches again after a reconnect', async () => {
    const metrics = await connected();
    const active = ref(true);
    const sort = ref<ProcessSort>('cpu');
    const scope = effectScope();
    cleanup.push(() => scope.stop());
    const watched = scope.run(() =>
      useProcessWatch({
        host: () => metrics.selectedHost,
        active: () => active.value,
        sort: () => sort.value,
        limit: () => 50,
      }),
    )!;
    await until(() => processMessages(0).length === 1);
    expect(processMessages(0)).toEqual([
      { type: 'watch_processes', host: HOST, sort: 'cpu', limit: 50 },
    ]);

    send(0, table('cpu', ['nginx', 'sshd']));
    await until(() => watched.value !== null);
    expect(watched.value!.processes.map((p) => p.name)).toEqual(['nginx', 'sshd']);

    sort.value = 'memory';
    await until(() => processMessages(0).length === 3);
    expect(processMessages(0).slice(1)).toEqual([
      { type: 'unwatch_processes', host: HOST },
      { type: 'watch_processes', host: HOST, sort: 'memory', limit: 50 },
    ]);
    // The CPU table already on its way is not taken for the memory one.
    send(0, table('cpu', ['late']));
    send(0, table('memory', ['postgres']));
    await until(() => watched.value?.sort === 'memory');
    expect(watched.value!.processes.map((p) => p.name)).toEqual(['postgres']);

    api.sockets[0]!.ws.terminate();
    await until(() => metrics.nextRetryAt !== null);
    clock.advanceTo(metrics.nextRetryAt!);
    await until(() => processMessages(1).length === 1);
    expect(processMessages(1)).toEqual([
      { type: 'watch_processes', host: HOST, sort: 'memory', limit: 50 },
    ]);

    active.value = false;
    await until(() => processMessages(1).length === 2);
    expect(processMessages(1)[1]).toEqual({ type: 'unwatch_processes', host: HOST });
  });
});
