// Types of ./otlp-decode.js (plain JavaScript so the decoding thread can load it).
import type { Type } from 'protobufjs';

export declare class OtlpDecodeError extends Error {
  readonly code: 'bad_body';
  constructor(message: string);
}

export declare function decodeOtlpBody(
  requestType: Type,
  encoding: 'protobuf' | 'json',
  body: Uint8Array,
): unknown;
