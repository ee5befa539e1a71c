import {
  APP_METRIC_FIELDS,
  appsQuery,
  type AppServiceInfo,
  type AppsResponse,
} from '@livestat/contracts';
import { Router, type RequestHandler } from 'express';
import type { AppBus } from '../ingest/app-bus.js';
import { HttpError } from './errors.js';

export interface AppsRouterDeps {
  /** This process's own host: its services come with their caps and refusals. */
  localHost: string;
  /** The services of this process's host (the aggregator's view); absent when it does not sample. */
  describeLocal?: () => AppServiceInfo[];
  bus: AppBus;
  maxSeries: number;
  guards?: readonly RequestHandler[];
}

/** Services of another host, as far as its last `app` message tells (caps are its process's). */
function fromMessage(bus: AppBus, host: string, maxSeries: number): AppServiceInfo[] {
  const latest = bus.latest().find((m) => m.message.host === host);
  if (!latest) return [];
  return Object.entries(latest.message.services)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, { metrics }]) => ({
      name,
      metrics: Object.entries(metrics)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([key, m]) => ({
          key,
          name: m.name,
          kind: m.kind,
          tags: m.tags,
          fields: [...APP_METRIC_FIELDS[m.kind]],
        })),
      limits: {
        series: Object.keys(metrics).length,
        maxSeries,
        refusedSeries: 0,
        overLimit: false,
        reason: null,
      },
      rejected: {},
    }));
}

/**
 * `GET /apps?host=`: the services pushing metrics to a host (default: this process's), each
 * with its metrics, where it stands against its caps and what was refused, per reason.
 */
export function createAppsRouter(deps: AppsRouterDeps): Router {
  const router = Router();
  router.get('/apps', ...(deps.guards ?? []), (req, res) => {
    const query = appsQuery.safeParse(req.query);
    if (!query.success) throw new HttpError(400, 'host: must be a host name');
    const host = query.data.host ?? deps.localHost;
    const services =
      host === deps.localHost && deps.describeLocal
        ? deps.describeLocal()
        : fromMessage(deps.bus, host, deps.maxSeries);
    res.set('Cache-Control', 'no-store');
    res.json({ services } satisfies AppsResponse);
  });
  return router;
}
