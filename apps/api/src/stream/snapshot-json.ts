import type { Snapshot } from '@livestat/contracts';

/** Where each top-level field's JSON sits in a published snapshot's text. */
interface Published {
  json: string;
  /** The fields serialized, in order. */
  keys: string[];
  /** [start, end) of each field's value in `json`, two numbers per key. */
  ranges: Uint32Array;
}

// Beside the snapshot, never in it: dropped with the snapshot once nothing holds it.
const published = new WeakMap<Snapshot, Published>();

/**
 * `JSON.stringify(snapshot)`, built field by field so the text of each field is known: the
 * batch writer stores each section's JSON as it was published ({@link publishedFieldJson})
 * rather than serializing the snapshot a second time. The same text as JSON.stringify for the
 * plain data a snapshot is (no toJSON, no cycles).
 */
export function serializeSnapshot(snapshot: Snapshot): string {
  const fields = snapshot as unknown as Record<string, unknown>;
  const keys: string[] = [];
  const parts: string[] = [];
  const ranges = new Uint32Array(2 * Object.keys(fields).length);
  let at = 1; // after '{'
  for (const key of Object.keys(fields)) {
    const text = JSON.stringify(fields[key]) as string | undefined;
    // What JSON.stringify leaves out of an object: undefined, functions, symbols.
    if (text === undefined) continue;
    const name = `${JSON.stringify(key)}:`;
    ranges[2 * keys.length] = at + name.length;
    ranges[2 * keys.length + 1] = at + name.length + text.length;
    at += name.length + text.length + 1; // and ','
    keys.push(key);
    parts.push(name + text);
  }
  const json = `{${parts.join(',')}}`;
  published.set(snapshot, { json, keys, ranges });
  return json;
}

/**
 * `JSON.stringify(snapshot[field])` as {@link serializeSnapshot} published it (a slice of that
 * text, no copy), or undefined when the snapshot was not published by it or has no such field.
 */
export function publishedFieldJson(snapshot: Snapshot, field: string): string | undefined {
  const entry = published.get(snapshot);
  const i = entry ? entry.keys.indexOf(field) : -1;
  return entry && i >= 0
    ? entry.json.slice(entry.ranges[2 * i], entry.ranges[2 * i + 1])
    : undefined;
}
