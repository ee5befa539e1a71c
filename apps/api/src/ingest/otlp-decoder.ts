import { Worker } from 'node:worker_threads';
import { OtlpDecodeError } from './otlp-codec.js';
import { OTLP_METRICS_DESCRIPTOR } from './otlp-descriptor.js';

const WORKER_URL = new URL('./otlp-decode-worker.js', import.meta.url);

export type OtlpEncoding = 'protobuf' | 'json';

/** The decoding queue is full: the route answers 503 with Retry-After (OTLP's throttling). */
export class OtlpQueueFullError extends Error {
  constructor() {
    super('too many OTLP requests waiting to be decoded; retry later');
    this.name = 'OtlpQueueFullError';
  }
}

type Reply =
  | { id: number; ok: true; request: unknown }
  | { id: number; ok: false; decodeError: boolean; message: string };

export interface OtlpDecoder {
  /** The export request in its plain object form; OtlpDecodeError for a bad body. */
  decode(encoding: OtlpEncoding, body: Uint8Array): Promise<unknown>;
  /** Requests refused because the queue was full, since start. */
  readonly refused: number;
  close(): Promise<void>;
}

/**
 * One worker thread (./otlp-decode-worker.js) that decodes OTLP bodies off the main thread, fed
 * by a queue of at most `maxQueued` requests (those being decoded included); past it `decode`
 * rejects with {@link OtlpQueueFullError} at once. The thread starts on the first request, and
 * again after it dies (requests it held then fail). It does not keep the process alive.
 */
export function createOtlpDecoder(maxQueued: number): OtlpDecoder {
  let worker: Worker | null = null;
  let nextId = 1;
  let refused = 0;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  function thread(): Worker {
    if (worker) return worker;
    const w = new Worker(WORKER_URL, { workerData: { descriptor: OTLP_METRICS_DESCRIPTOR } });
    w.unref();
    w.on('message', (reply: Reply) => {
      const waiter = pending.get(reply.id);
      if (!waiter) return;
      pending.delete(reply.id);
      if (reply.ok) waiter.resolve(reply.request);
      else if (reply.decodeError) waiter.reject(new OtlpDecodeError(reply.message));
      else waiter.reject(new Error(reply.message));
    });
    const fail = (err: Error) => {
      if (worker !== w) return;
      worker = null;
      for (const { reject } of pending.values()) reject(err);
      pending.clear();
    };
    w.on('error', fail);
    w.on('exit', (code) => fail(new Error(`OTLP decoding thread exited (${code})`)));
    worker = w;
    return w;
  }

  return {
    decode(encoding, body) {
      if (pending.size >= maxQueued) {
        refused += 1;
        return Promise.reject(new OtlpQueueFullError());
      }
      const id = nextId++;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        // A copy the thread owns: the request's buffer may be a slice of a pooled one.
        const copy = new Uint8Array(body);
        thread().postMessage({ id, encoding, body: copy }, [copy.buffer]);
      });
    },
    get refused() {
      return refused;
    },
    async close() {
      const w = worker;
      worker = null;
      if (w) await w.terminate();
    },
  };
}
