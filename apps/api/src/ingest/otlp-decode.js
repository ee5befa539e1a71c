// @ts-check
// Decoding of an OTLP export request body, shared by the main thread (./otlp-codec.ts, tests)
// and the decoding thread (./otlp-decode-worker.js). Plain JavaScript, because that thread
// cannot load TypeScript: worker threads do not inherit tsx's loader.

/** A body that is not an OTLP export request in the encoding it claims: answered 400. */
export class OtlpDecodeError extends Error {
  /** @readonly */
  code = 'bad_body';
  /** @param {string} message */
  constructor(message) {
    super(message);
    this.name = 'OtlpDecodeError';
  }
}

/**
 * Decodes `body` into the plain object shape OTLP/JSON has (camelCase, enums as numbers), so
 * one reader serves both encodings. Protobuf 64-bit integers become numbers: counts beyond
 * 2^53 lose their last digits, which no rate here can show. JSON keeps the protobuf JSON
 * mapping (int64 as strings, ids as hex).
 * @param {import('protobufjs').Type} requestType ExportMetricsServiceRequest
 * @param {'protobuf' | 'json'} encoding
 * @param {Uint8Array} body
 * @returns {unknown}
 */
export function decodeOtlpBody(requestType, encoding, body) {
  if (encoding === 'protobuf') {
    try {
      const message = requestType.decode(body);
      return requestType.toObject(message, { longs: Number, enums: Number, bytes: String });
    } catch (err) {
      throw new OtlpDecodeError(`not an OTLP metrics protobuf: ${errorMessage(err)}`);
    }
  }
  let value;
  try {
    value = JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'));
  } catch (err) {
    throw new OtlpDecodeError(`not JSON: ${errorMessage(err)}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new OtlpDecodeError('an OTLP export request must be a JSON object');
  }
  return value;
}

/** @param {unknown} err */
const errorMessage = (err) => (err instanceof Error ? err.message : String(err));
