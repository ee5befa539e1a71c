import { readdirSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import type { InterfaceRates, NetworkInterface, NetworkMetrics } from '@livestat/contracts';
import { createSyncCounterPair } from './counter-pair.js';
import { readProcFile } from './procfs.js';
import { counterRate, round } from './rates.js';
import { CollectorError, type Collector, type CollectorDeps } from './types.js';

/** The counters of one interface in `/proc/net/dev` that the payload uses. */
export interface NetDevCounters {
  rxBytes: number;
  rxPackets: number;
  rxErrors: number;
  rxDrops: number;
  txBytes: number;
  txPackets: number;
  txErrors: number;
  txDrops: number;
}

/** One reading of `/proc/net/dev`: counters by interface name, in file order. */
export type NetDevReading = Map<string, NetDevCounters>;

type NetworkPayload = Extract<NetworkMetrics, { available: true }>;

// rx: bytes packets errs drop fifo frame compressed multicast; tx: bytes packets errs drop
// fifo colls carrier compressed. Newer kernels may append columns; we only need these 16.
const NET_DEV_COLUMNS = 16;
const COUNTER = /^\d+$/;
// A well-formed line, capturing the name and the eight counters used. Lines it does not match
// take the field-by-field path, which names what is wrong.
const NET_DEV_LINE =
  /^([^:]*):\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+\d+\s+\d+\s+\d+\s+\d+\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+\d+\s+\d+\s+\d+\s+\d+(?:\s|$)/;

/**
 * Parses `/proc/net/dev`. Skips the two header lines and blank lines; every other line must
 * be `name: 16 counters` (the kernel forbids `:` and whitespace in interface names, so the
 * first `:` ends the name even when a wide counter leaves no space after it). Extra columns
 * are ignored. Throws `CollectorError` (`malformed`) on a missing header or a bad line.
 */
export function parseNetDev(text: string): NetDevReading {
  const lines = text.split('\n');
  if (!lines[0]?.includes('|') || !lines[1]?.includes('|')) {
    throw new CollectorError('malformed', '/proc/net/dev: missing the two header lines');
  }
  const reading: NetDevReading = new Map();
  for (const [index, raw] of lines.entries()) {
    if (index < 2) continue;
    const line = NET_DEV_LINE.exec(raw);
    const lineName = line?.[1]?.trim();
    if (line !== null && lineName !== undefined && lineName !== '') {
      reading.set(lineName, {
        rxBytes: Number(line[2]),
        rxPackets: Number(line[3]),
        rxErrors: Number(line[4]),
        rxDrops: Number(line[5]),
        txBytes: Number(line[6]),
        txPackets: Number(line[7]),
        txErrors: Number(line[8]),
        txDrops: Number(line[9]),
      });
      continue;
    }
    if (raw.trim() === '') continue;
    const colon = raw.indexOf(':');
    const name = colon > 0 ? raw.slice(0, colon).trim() : '';
    const fields = raw
      .slice(colon + 1)
      .trim()
      .split(/\s+/);
    if (name === '' || fields.length < NET_DEV_COLUMNS) {
      throw new CollectorError(
        'malformed',
        `/proc/net/dev line ${index + 1}: expected "name: ${NET_DEV_COLUMNS} counters", got "${raw.trim()}"`,
      );
    }
    const values = fields.slice(0, NET_DEV_COLUMNS).map((field) => {
      if (!COUNTER.test(field)) {
        throw new CollectorError(
          'malformed',
          `/proc/net/dev line ${index + 1}: "${field}" is not a counter (interface ${name})`,
        );
      }
      return Number(field);
    });
    const at = (i: number): number => values[i] ?? 0;
    reading.set(name, {
      rxBytes: at(0),
      rxPackets: at(1),
      rxErrors: at(2),
      rxDrops: at(3),
      txBytes: at(8),
      txPackets: at(9),
      txErrors: at(10),
      txDrops: at(11),
    });
  }
  return reading;
}

/**
 * Whether an interface is the loopback. We decide by name because `/sys` may be missing (a
 * container, a fixture tree without `class/net/<if>/flags`), and on Linux the loopback device
 * of every network namespace is always called `lo`.
 */
export function isLoopback(name: string): boolean {
  return name === 'lo';
}

// sysfs links every network device of the namespace into /sys/class/net; devices with no
// parent bus (bonds, bridges, VLANs, veth, tunnels, ifb, lo) live under /sys/devices/virtual.
const VIRTUAL_NET_LINK = /(?:^|\/)devices\/virtual\/net\/[^/]+\/?$/;

/**
 * Whether a `/sys/class/net/<name>` symlink target (as `readlink` returns it, e.g.
 * `../../devices/virtual/net/bond0`) names a virtual interface — one with no device of its
 * own, whose traffic a physical interface also counts. Netdata totals by the same rule.
 */
export function isVirtualLink(target: string): boolean {
  return VIRTUAL_NET_LINK.test(target);
}

const ZERO_RATES: InterfaceRates = {
  rxBytesPerSec: 0,
  txBytesPerSec: 0,
  rxPacketsPerSec: 0,
  txPacketsPerSec: 0,
  rxErrorsPerSec: 0,
  txErrorsPerSec: 0,
  rxDropsPerSec: 0,
  txDropsPerSec: 0,
};

function interfaceRates(
  prev: NetDevCounters | undefined,
  cur: NetDevCounters,
  elapsedMs: number,
): InterfaceRates {
  // An interface that just appeared has no baseline: report 0 this tick, measure from the next.
  if (prev === undefined) return { ...ZERO_RATES };
  // Spelled out field by field, as below: this runs for every interface every tick.
  return {
    rxBytesPerSec: counterRate(prev.rxBytes, cur.rxBytes, elapsedMs),
    txBytesPerSec: counterRate(prev.txBytes, cur.txBytes, elapsedMs),
    rxPacketsPerSec: counterRate(prev.rxPackets, cur.rxPackets, elapsedMs),
    txPacketsPerSec: counterRate(prev.txPackets, cur.txPackets, elapsedMs),
    rxErrorsPerSec: counterRate(prev.rxErrors, cur.rxErrors, elapsedMs),
    txErrorsPerSec: counterRate(prev.txErrors, cur.txErrors, elapsedMs),
    rxDropsPerSec: counterRate(prev.rxDrops, cur.rxDrops, elapsedMs),
    txDropsPerSec: counterRate(prev.txDrops, cur.txDrops, elapsedMs),
  };
}

function addRates(totals: InterfaceRates, rates: InterfaceRates): void {
  totals.rxBytesPerSec += rates.rxBytesPerSec;
  totals.txBytesPerSec += rates.txBytesPerSec;
  totals.rxPacketsPerSec += rates.rxPacketsPerSec;
  totals.txPacketsPerSec += rates.txPacketsPerSec;
  totals.rxErrorsPerSec += rates.rxErrorsPerSec;
  totals.txErrorsPerSec += rates.txErrorsPerSec;
  totals.rxDropsPerSec += rates.rxDropsPerSec;
  totals.txDropsPerSec += rates.txDropsPerSec;
}

// An object literal rather than `{ ...rounded(rates), loopback, virtual }`: spreading an object
// of doubles costs several times building it.
function roundedInterface(
  rates: InterfaceRates,
  c: NetDevCounters,
  loopback: boolean,
  virtual: boolean,
): NetworkInterface {
  return {
    counters: [
      c.rxBytes,
      c.rxPackets,
      c.rxErrors,
      c.rxDrops,
      c.txBytes,
      c.txPackets,
      c.txErrors,
      c.txDrops,
    ],
    rxBytesPerSec: round(rates.rxBytesPerSec, 2),
    txBytesPerSec: round(rates.txBytesPerSec, 2),
    rxPacketsPerSec: round(rates.rxPacketsPerSec, 2),
    txPacketsPerSec: round(rates.txPacketsPerSec, 2),
    rxErrorsPerSec: round(rates.rxErrorsPerSec, 2),
    txErrorsPerSec: round(rates.txErrorsPerSec, 2),
    rxDropsPerSec: round(rates.rxDropsPerSec, 2),
    txDropsPerSec: round(rates.txDropsPerSec, 2),
    loopback,
    virtual,
  };
}

/**
 * Turns two readings `elapsedMs` apart into the network payload. Lists every interface of
 * the current reading (one that vanished is gone; a new one reports 0 this tick; a reset
 * counter reports 0). An interface is `virtual` when it is loopback or in `virtualNames`
 * (from `readVirtualInterfaces`; empty means "nothing known", so only lo is virtual). Totals
 * sum the interfaces that are neither loopback nor virtual, from unrounded rates.
 */
export function computeNetworkMetrics(
  previous: NetDevReading,
  current: NetDevReading,
  elapsedMs: number,
  virtualNames: ReadonlySet<string> = new Set(),
): NetworkPayload {
  const totals: InterfaceRates = { ...ZERO_RATES };
  const interfaces: Record<string, NetworkInterface> = {};
  for (const [name, counters] of current) {
    const rates = interfaceRates(previous.get(name), counters, elapsedMs);
    const loopback = isLoopback(name);
    const virtual = loopback || virtualNames.has(name);
    // bond0 = eth0 + eth1, a VLAN or bridge repeats its lower device, a veth repeats what the
    // bridge forwards: summing them would count the same bytes at every layer.
    if (!loopback && !virtual) addRates(totals, rates);
    interfaces[name] = roundedInterface(rates, counters, loopback, virtual);
  }
  return {
    available: true,
    rxBytesPerSec: round(totals.rxBytesPerSec, 2),
    txBytesPerSec: round(totals.txBytesPerSec, 2),
    rxPacketsPerSec: round(totals.rxPacketsPerSec, 2),
    txPacketsPerSec: round(totals.txPacketsPerSec, 2),
    rxErrorsPerSec: round(totals.rxErrorsPerSec, 2),
    txErrorsPerSec: round(totals.txErrorsPerSec, 2),
    rxDropsPerSec: round(totals.rxDropsPerSec, 2),
    txDropsPerSec: round(totals.txDropsPerSec, 2),
    interfaces,
  };
}

/**
 * Reads and parses the host's `/proc/net/dev`: `<procRoot>/1/net/dev` when readable, else
 * `<procRoot>/net/dev`; throws `CollectorError` if neither is there or the text is bad.
 *
 * `<procRoot>/net` is the network namespace of the process reading it, so in a container it
 * lists the container's veth, not the host's NICs. PID 1's is the host's whenever the host's
 * PIDs are visible (`pid: host`, or a host `/proc` mounted at PROC_ROOT), and when they are
 * not, PID 1 is the container's own init, in our namespace anyway: preferring it is never
 * wrong, and node_exporter reads the same file.
 */
export function readNetDev(procRoot: string): NetDevReading {
  let text: string;
  try {
    text = readProcFile(procRoot, '1/net/dev');
  } catch {
    // No PID 1 here (a fixture tree) or not ours to read: our own namespace's view.
    text = readProcFile(procRoot, 'net/dev');
  }
  return parseNetDev(text);
}

/**
 * Lists `<sysRoot>/class/net` and `readlink`s each entry; returns the names whose link is
 * virtual (`isVirtualLink`). Never throws: an empty set means every non-loopback interface
 * counts in the totals.
 */
export function readVirtualInterfaces(sysRoot: string): Set<string> {
  return readNetClass(sysRoot)?.virtual ?? new Set();
}

// Names the kernel and the usual tools give virtual devices: bridges (docker0, br-…, virbr0,
// cni0), veth pairs, tunnels and overlays, bonds and team devices, ifb and dummy.
const VIRTUAL_NAME =
  /^(lo|veth|docker\d|br-|virbr|cni|flannel|cali|weave|vxlan|tun|tap|wg|bond|team|ifb|dummy|kube-|cilium|lxc|gre|ip6?tnl|sit)/;

/** Whether an interface's name is one virtual devices get, for names sysfs cannot judge. */
export function isVirtualName(name: string): boolean {
  return VIRTUAL_NAME.test(name);
}

/**
 * The interfaces of `<sysRoot>/class/net` and, of those, the virtual ones; null when there
 * is no listing (no /sys). Never throws.
 */
export function readNetClass(
  sysRoot: string,
): { listed: Set<string>; virtual: Set<string> } | null {
  const dir = path.join(sysRoot, 'class/net');
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    // No /sys (a container without it, a fixture tree without class/net): we cannot tell a
    // bond from a NIC, so fall back to the old rule — every non-loopback interface counts.
    // Over-counting stacked traffic beats reporting no network at all.
    return null;
  }
  const virtual = new Set<string>();
  for (const name of names) {
    try {
      if (isVirtualLink(readlinkSync(path.join(dir, name)))) virtual.add(name);
    } catch {
      // Removed between readdir and readlink, or not a symlink (old CONFIG_SYSFS_DEPRECATED
      // layouts): not known to be virtual, so it counts as physical.
    }
  }
  return { listed: new Set(names), virtual };
}

// An interface's kind cannot change while its name stays, so /sys/class/net is listed again
// only when the names in /proc/net/dev change, and every this many readings in case one was
// swapped for another of the same name between two ticks (a minute at 1 Hz).
const VIRTUAL_RECHECK_READINGS = 60;

function sameNames(reading: NetDevReading, names: readonly string[]): boolean {
  if (reading.size !== names.length) return false;
  let i = 0;
  for (const name of reading.keys()) if (name !== names[i++]) return false;
  return true;
}

/**
 * The network collector: per-interface and total rates from `/proc/net/dev` over the real
 * time between two reads; totals count physical interfaces only (`/sys/class/net` tells
 * which are virtual, re-read whenever the interfaces change, as containers come and go). A
 * `collect()` without `prime()` primes and reports 0 rates.
 */
export function createNetworkCollector(deps: CollectorDeps): Collector<'network'> {
  let known: { sysRoot: string; names: string[]; virtual: Set<string>; age: number } | null = null;

  function virtualNamesOf(reading: NetDevReading): Set<string> {
    if (
      known === null ||
      known.sysRoot !== deps.sysRoot ||
      !sameNames(reading, known.names) ||
      ++known.age >= VIRTUAL_RECHECK_READINGS
    ) {
      const netClass = readNetClass(deps.sysRoot);
      const virtual = new Set(netClass?.virtual);
      // An interface /sys does not list lives in another network namespace than the sysfs
      // mounted there: the host's, read through PROC_ROOT/1 from a container whose /sys is
      // its own. Its link cannot be read, so its name decides (docker0, veth…, br-…).
      if (netClass !== null) {
        for (const name of reading.keys()) {
          if (!netClass.listed.has(name) && isVirtualName(name)) virtual.add(name);
        }
      }
      known = { sysRoot: deps.sysRoot, names: [...reading.keys()], virtual, age: 0 };
    }
    return known.virtual;
  }

  const devices = createSyncCounterPair(() => {
    const reading = readNetDev(deps.procRoot);
    return { reading, virtualNames: virtualNamesOf(reading) };
  }, deps.now);

  return {
    name: 'network',
    async prime() {
      devices.prime();
    },
    async collect() {
      const { previous, current, elapsedMs } = devices.next();
      return computeNetworkMetrics(
        previous.reading,
        current.reading,
        elapsedMs,
        current.virtualNames,
      );
    },
  };
}
