import { pathToFileURL } from 'node:url';
import { metrics } from '@opentelemetry/api';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';

// A model router in the shape of seed 001: each request goes to one of four providers in the
// seed's proportions (gemini 80, claude 50, cerebras 15, openrouter 5) at a cost near the
// seed's ~$0.002 a call; the router counts calls and cost per provider and records each call's
// latency, exported with the official OpenTelemetry SDK over OTLP/HTTP protobuf.

export interface RouterOptions {
  /** livestat's base URL: the exporter posts to `<url>/v1/metrics`. */
  url: string;
  /** An API token with the `ingest` scope. */
  token: string;
  /** Export interval; livestat aggregates per its own sampling tick. */
  exportIntervalMs?: number;
}

const PROVIDERS = [
  { name: 'gemini', weight: 80, cost: 0.0012, latencyMs: 420 },
  { name: 'claude', weight: 50, cost: 0.0035, latencyMs: 780 },
  { name: 'cerebras', weight: 15, cost: 0.0008, latencyMs: 160 },
  { name: 'openrouter', weight: 5, cost: 0.002, latencyMs: 610 },
] as const;
const TOTAL_WEIGHT = PROVIDERS.reduce((sum, p) => sum + p.weight, 0);

function pickProvider(): (typeof PROVIDERS)[number] {
  let roll = Math.random() * TOTAL_WEIGHT;
  for (const provider of PROVIDERS) {
    roll -= provider.weight;
    if (roll < 0) return provider;
  }
  return PROVIDERS[0];
}

/** Starts the router; the returned function flushes the last export and stops it. */
export function startModelRouter(options: RouterOptions): () => Promise<void> {
  const exporter = new OTLPMetricExporter({
    url: `${options.url.replace(/\/$/, '')}/v1/metrics`,
    headers: { Authorization: `Bearer ${options.token}` },
  });
  const provider = new MeterProvider({
    resource: resourceFromAttributes({ 'service.name': 'router' }),
    readers: [
      new PeriodicExportingMetricReader({
        exporter,
        exportIntervalMillis: options.exportIntervalMs ?? 1000,
      }),
    ],
  });
  metrics.setGlobalMeterProvider(provider);
  const meter = provider.getMeter('livestat-demo-router');
  const calls = meter.createCounter('calls', { description: 'Routed model calls' });
  const cost = meter.createCounter('cost', { description: 'Cost of routed calls', unit: 'USD' });
  const latency = meter.createHistogram('latency', { description: 'Call latency', unit: 'ms' });

  // ~30 routing decisions a second.
  const timer = setInterval(() => {
    const chosen = pickProvider();
    const attributes = { provider: chosen.name };
    calls.add(1, attributes);
    cost.add(chosen.cost * (0.6 + Math.random() * 0.8), attributes);
    latency.record(chosen.latencyMs * (0.5 + Math.random()), attributes);
  }, 33);

  return async () => {
    clearInterval(timer);
    await provider.shutdown();
  };
}

// `npm run router -w examples` with LIVESTAT_INGEST_TOKEN set: the router alone.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const token = process.env.LIVESTAT_INGEST_TOKEN;
  if (!token) {
    process.stderr.write(
      'router: set LIVESTAT_INGEST_TOKEN (npm run tokens -- create --scope ingest router)\n',
    );
    process.exit(2);
  }
  const stop = startModelRouter({
    url: process.env.LIVESTAT_URL ?? 'http://127.0.0.1:8000',
    token,
  });
  process.stderr.write('router: exporting OTLP; Ctrl-C stops\n');
  process.once('SIGINT', () => void stop().then(() => process.exit(0)));
}
