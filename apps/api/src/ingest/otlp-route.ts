import express, { Router, type Request, type Response } from 'express';
import { HttpError } from '../http/errors.js';
import type { Logger } from '../logger.js';
import { createRequireApiToken } from '../tokens/require-api-token.js';
import type { TokenStore } from '../tokens/token-store.js';
import {
  encodeOtlpResponse,
  OtlpDecodeError,
  otlpJsonResponse,
  type PartialSuccess,
} from './otlp-codec.js';
import { createOtlpDecoder, OtlpQueueFullError, type OtlpDecoder } from './otlp-decoder.js';
import type { OtlpIngestResult } from './otlp-metrics.js';

/** The OpenTelemetry path for metrics over OTLP/HTTP. */
export const OTLP_METRICS_PATH = '/v1/metrics';
/** Largest body accepted, after gzip: OTLP exporters batch well under this. */
export const OTLP_MAX_BODY_BYTES = 4 * 1024 * 1024;
/** Requests queued for the decoding thread at once; past it the answer is 503 and the exporter retries later. */
const MAX_QUEUED = 16;

export interface OtlpRouterDeps {
  tokens: TokenStore;
  ingest: (request: unknown) => OtlpIngestResult;
  logger: Logger;
  /** Decodes bodies off the main thread; one of its own (queue of 16) when absent. */
  decoder?: OtlpDecoder;
}

type Encoding = 'protobuf' | 'json';

function encodingOf(req: Request): Encoding | null {
  const type = (req.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === 'application/x-protobuf' || type === 'application/protobuf') return 'protobuf';
  if (type === 'application/json') return 'json';
  return null;
}

function answer(res: Response, encoding: Encoding, status: number, partial: PartialSuccess | null) {
  res.status(status);
  if (encoding === 'json') res.json(otlpJsonResponse(partial));
  else res.type('application/x-protobuf').send(Buffer.from(encodeOtlpResponse(partial)));
}

/**
 * `POST /v1/metrics`: OTLP/HTTP metrics, protobuf or JSON, gzip or deflate, with an API token
 * of scope `ingest`. Answers per the OTLP spec: 200 (with `partialSuccess` naming how many data
 * points were refused and why), 400 for a body that does not decode, 415 for another content
 * type, 413 past {@link OTLP_MAX_BODY_BYTES}, 503 with Retry-After while the decoding thread's
 * queue is full. Decoding (protobuf or JSON) runs on that thread, so a large request does not
 * hold up the host sampler; inflating is zlib's, on libuv's pool.
 * Mounted before the app's JSON parser, which would refuse OTLP-sized bodies.
 */
export function createOtlpRouter(deps: OtlpRouterDeps): Router {
  const router = Router();
  const decoder = deps.decoder ?? createOtlpDecoder(MAX_QUEUED);
  // Inflates gzip/deflate itself; the limit counts the inflated bytes, so a zip bomb stops at it.
  const raw = express.raw({ type: () => true, limit: OTLP_MAX_BODY_BYTES, inflate: true });
  router.post(
    OTLP_METRICS_PATH,
    createRequireApiToken(deps.tokens, 'ingest'),
    (req, _res, next) => {
      if (encodingOf(req) === null) {
        throw new HttpError(415, 'Content-Type must be application/x-protobuf or application/json');
      }
      next();
    },
    raw,
    async (req, res) => {
      const encoding = encodingOf(req)!;
      const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      let request: unknown;
      try {
        request = await decoder.decode(encoding, body);
      } catch (err) {
        if (err instanceof OtlpDecodeError) throw new HttpError(400, err.message, err.code);
        if (err instanceof OtlpQueueFullError) {
          res.set('Retry-After', '1');
          throw new HttpError(503, err.message);
        }
        deps.logger.warn({ err }, 'OTLP decoding thread failed');
        res.set('Retry-After', '1');
        throw new HttpError(503, 'OTLP decoding failed; retry later');
      }
      const result = deps.ingest(request);
      const partial =
        result.rejected > 0
          ? { rejectedDataPoints: result.rejected, errorMessage: result.errors.join('; ') }
          : null;
      answer(res, encoding, 200, partial);
    },
  );
  return router;
}
