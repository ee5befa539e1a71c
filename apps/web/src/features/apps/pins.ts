/** A metric pinned to the live dashboard: its service and its key within the service. */
export interface Pin {
  service: string;
  key: string;
}

/** Where a host's pins are kept: one localStorage key per host. */
export function pinsKey(host: string): string {
  return `livestat.apps.pins.${host}`;
}

/** The slice of `localStorage` used here. */
export type PinStorage = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

/** Most pins kept per host: the live page stays a dashboard, not a second Applications view. */
export const MAX_PINS = 12;

/** A host's pins as stored; anything unreadable (edited by hand, an old shape) is none. */
export function readPins(storage: PinStorage | null, host: string): Pin[] {
  let value: unknown;
  try {
    value = JSON.parse(storage?.getItem(pinsKey(host)) ?? '[]');
  } catch {
    return [];
  }
  if (!Array.isArray(value)) return [];
  return value
    .filter(
      (pin): pin is Pin =>
        typeof pin === 'object' &&
        pin !== null &&
        typeof (pin as Pin).service === 'string' &&
        typeof (pin as Pin).key === 'string',
    )
    .map(({ service, key }) => ({ service, key }))
    .slice(0, MAX_PINS);
}

/** Whether `pin` is among `pins`. */
export function isPinned(pins: readonly Pin[], pin: Pin): boolean {
  return pins.some((p) => p.service === pin.service && p.key === pin.key);
}

/**
 * Pins or unpins one metric of `host` and stores the result; returns the new list. A full list
 * ({@link MAX_PINS}) refuses a new pin and is returned unchanged. Storage that refuses the
 * write (private mode, a full quota) keeps the change for this page only.
 */
export function togglePin(storage: PinStorage | null, host: string, pin: Pin): Pin[] {
  const pins = readPins(storage, host);
  const next = isPinned(pins, pin)
    ? pins.filter((p) => !(p.service === pin.service && p.key === pin.key))
    : pins.length >= MAX_PINS
      ? pins
      : [...pins, { service: pin.service, key: pin.key }];
  try {
    if (next.length === 0) storage?.removeItem(pinsKey(host));
    else storage?.setItem(pinsKey(host), JSON.stringify(next));
  } catch {
    // Kept in memory by the caller.
  }
  return next;
}
