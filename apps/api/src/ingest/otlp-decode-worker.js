// @ts-check
// The OTLP decoding thread (./otlp-decoder.ts). protobufjs's decode and toObject, or JSON.parse,
// of a large export request run synchronously for tens of milliseconds; on the main thread that
// time is taken from the host sampler, the stream and the health check. Here it only stops this
// thread. Plain JavaScript, so the same file runs under tsx, vitest and from dist: worker
// threads do not inherit tsx's loader (see ../storage/pglite-worker.js).
import { createRequire } from 'node:module';
import { parentPort, workerData } from 'node:worker_threads';
import { decodeOtlpBody, OtlpDecodeError } from './otlp-decode.js';

const require = createRequire(import.meta.url);
/** @type {typeof import('protobufjs')} */
const protobufjs = require('protobufjs');
const REQUEST = protobufjs.Root.fromJSON(workerData.descriptor).lookupType(
  'opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest',
);

const port = parentPort;
if (port === null) throw new Error('otlp-decode-worker.js runs as a worker thread');
port.on(
  'message',
  /** @param {{ id: number, encoding: 'protobuf' | 'json', body: Uint8Array }} job */
  ({ id, encoding, body }) => {
    try {
      port.postMessage({ id, ok: true, request: decodeOtlpBody(REQUEST, encoding, body) });
    } catch (err) {
      const decodeError = err instanceof OtlpDecodeError;
      const message = err instanceof Error ? err.message : String(err);
      port.postMessage({ id, ok: false, decodeError, message });
    }
  },
);
