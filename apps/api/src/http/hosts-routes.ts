import type { HostInfo } from '@livestat/contracts';
import { Router, type RequestHandler } from 'express';
import type { Queryable } from '../storage/db.js';
import type { Bus } from '../stream/bus.js';

export interface HostsRouterDeps {
  bus: Bus;
  /** The `hosts` table: every host ever stored, live or not. Absent for a role without storage. */
  db?: Queryable;
  /** Run before each handler: passport-jwt in production. */
  guards?: readonly RequestHandler[];
}

/**
 * `GET /hosts` — every host seen, stored or live, newest first — and `GET /snapshots/latest`,
 * the latest snapshot per host: the polling fallback for clients whose network blocks
 * WebSockets. The snapshots are sent as the JSON they were published as, never re-serialized.
 */
export function createHostsRouter(deps: HostsRouterDeps): Router {
  const router = Router();
  const guards = deps.guards ?? [];

  router.get('/hosts', ...guards, async (_req, res) => {
    res.set('Cache-Control', 'no-store');
    const seen = new Map<string, string>();
    if (deps.db) {
      // With the database down the live hosts still answer: the picker must not go empty.
      const rows = await deps.db
        .query<{ host: string; last_seen: Date }>('SELECT host, last_seen FROM hosts')
        .catch(() => []);
      for (const row of rows) seen.set(row.host, row.last_seen.toISOString());
    }
    // Live snapshots are newer than what the batch writer has stored so far.
    for (const { snapshot } of await deps.bus.latest()) {
      const stored = seen.get(snapshot.host);
      if (stored === undefined || stored < snapshot.timestamp) {
        seen.set(snapshot.host, snapshot.timestamp);
      }
    }
    const hosts: HostInfo[] = [...seen]
      .map(([name, lastSeen]) => ({ name, lastSeen }))
      .sort((a, b) => b.lastSeen.localeCompare(a.lastSeen) || a.name.localeCompare(b.name));
    res.json({ hosts });
  });

  router.get('/snapshots/latest', ...guards, async (_req, res) => {
    res.set('Cache-Control', 'no-store');
    const latest = await deps.bus.latest();
    latest.sort((a, b) => a.snapshot.host.localeCompare(b.snapshot.host));
    res
      .type('application/json')
      .send(`{"snapshots":[${latest.map((message) => message.json).join(',')}]}`);
  });

  return router;
}
