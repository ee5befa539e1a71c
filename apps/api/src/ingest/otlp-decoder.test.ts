import { afterEach, describe, expect, it } from 'vitest';
import { decodeOtlpProtobuf, encodeOtlpRequest, OtlpDecodeError } from './otlp-codec.js';
import { createOtlpDecoder, OtlpQueueFullError, type OtlpDecoder } from './otlp-decoder.js';

const REQUEST = {
  resourceMetrics: [
    {
      resource: { attributes: [{ key: 'service.name', value: { stringValue: 'worker' } }] },
      scopeMetrics: [
        {
          metrics: [
            {
              name: 'queue.depth',
              gauge: { dataPoints: [{ asInt: 17, timeUnixNano: 1_700_000_000_000_000_000 }] },
            },
          ],
        },
      ],
    },
  ],
};

describe('createOtlpDecoder (a real worker thread)', () => {
  let decoder: OtlpDecoder | undefined;
  afterEach(async () => {
    await decoder?.close();
    decoder = undefined;
  });

  it('decodes protobuf and JSON exactly as the main thread does', async () => {
    decoder = createOtlpDecoder(4);
    const protobuf = encodeOtlpRequest(REQUEST);
    expect(await decoder.decode('protobuf', protobuf)).toEqual(decodeOtlpProtobuf(protobuf));
    const json = Buffer.from(JSON.stringify(REQUEST));
    expect(await decoder.decode('json', json)).toEqual(REQUEST);
  });

  it('rejects bad bodies with OtlpDecodeError, and keeps working after', async () => {
    decoder = createOtlpDecoder(4);
    await expect(decoder.decode('protobuf', Buffer.from([0x0a, 0xff, 0xff, 0xff]))).rejects.toThrow(
      OtlpDecodeError,
    );
    await expect(decoder.decode('json', Buffer.from('[]'))).rejects.toThrow(
      'an OTLP export request must be a JSON object',
    );
    expect(await decoder.decode('json', Buffer.from('{}'))).toEqual({});
  });

  it('refuses past its queue bound at once, counts it, and takes work again when it drains', async () => {
    decoder = createOtlpDecoder(2);
    const body = Buffer.from(JSON.stringify(REQUEST));
    const first = decoder.decode('json', body);
    const second = decoder.decode('json', body);
    await expect(decoder.decode('json', body)).rejects.toThrow(OtlpQueueFullError);
    expect(decoder.refused).toBe(1);
    await expect(Promise.all([first, second])).resolves.toEqual([REQUEST, REQUEST]);
    expect(await decoder.decode('json', body)).toEqual(REQUEST);
    expect(decoder.refused).toBe(1);
  });

  it('decodes a slice of a larger buffer, not the whole buffer', async () => {
    decoder = createOtlpDecoder(4);
    const whole = Buffer.from(`xx${JSON.stringify(REQUEST)}yy`);
    expect(await decoder.decode('json', whole.subarray(2, whole.length - 2))).toEqual(REQUEST);
  });
});
