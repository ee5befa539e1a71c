import type { Type } from 'protobufjs';
import { protobufjs } from '../lazy-modules.js';
import { decodeOtlpBody, OtlpDecodeError } from './otlp-decode.js';
import { OTLP_METRICS_DESCRIPTOR } from './otlp-descriptor.js';

// protobufjs and the descriptor's types are built on the first OTLP request, not at start-up.
let types: { REQUEST: Type; RESPONSE: Type } | undefined;
function otlpTypes(): { REQUEST: Type; RESPONSE: Type } {
  if (types) return types;
  const root = protobufjs().Root.fromJSON(OTLP_METRICS_DESCRIPTOR);
  types = {
    REQUEST: root.lookupType(
      'opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest',
    ),
    RESPONSE: root.lookupType(
      'opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceResponse',
    ),
  };
  return types;
}

export { OtlpDecodeError };

/** Decodes a protobuf `ExportMetricsServiceRequest` (see {@link decodeOtlpBody}). */
export function decodeOtlpProtobuf(body: Uint8Array): unknown {
  return decodeOtlpBody(otlpTypes().REQUEST, 'protobuf', body);
}

/** Parses an OTLP/JSON body (the protobuf JSON mapping: int64 as strings, ids as hex). */
export function decodeOtlpJson(body: Uint8Array): unknown {
  return decodeOtlpBody(otlpTypes().REQUEST, 'json', body);
}

/** What the OTLP spec calls a partial success: how many points were refused, and why. */
export interface PartialSuccess {
  rejectedDataPoints: number;
  errorMessage: string;
}

/** The `ExportMetricsServiceResponse` as protobuf; `partialSuccess` only when something was refused. */
export function encodeOtlpResponse(partial: PartialSuccess | null): Uint8Array {
  const { RESPONSE } = otlpTypes();
  return RESPONSE.encode(
    RESPONSE.fromObject(partial === null ? {} : { partialSuccess: partial }),
  ).finish();
}

/** The same response as OTLP/JSON (int64 as a string). */
export function otlpJsonResponse(partial: PartialSuccess | null): object {
  return partial === null
    ? {}
    : {
        partialSuccess: {
          rejectedDataPoints: String(partial.rejectedDataPoints),
          errorMessage: partial.errorMessage,
        },
      };
}

/** Decodes a response body (tests and benches read what the route answered). */
export function decodeOtlpResponse(body: Uint8Array): {
  partialSuccess?: { rejectedDataPoints?: number; errorMessage?: string };
} {
  const { RESPONSE } = otlpTypes();
  return RESPONSE.toObject(RESPONSE.decode(body), { longs: Number });
}

/** Encodes a request from its plain object form (tests and benches). */
export function encodeOtlpRequest(request: object): Uint8Array {
  const { REQUEST } = otlpTypes();
  return REQUEST.encode(REQUEST.fromObject(request)).finish();
}
