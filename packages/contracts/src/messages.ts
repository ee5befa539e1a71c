import { z } from 'zod/mini';
import { activeAlert, alertEvent } from './alerts.js';
import { appMessage } from './app.js';
import { cgroupsMessage, unwatchCgroupsMessage, watchCgroupsMessage } from './cgroups.js';
import { hostName, isoTimestamp } from './common.js';
import {
  PROCESS_WATCH_DEFAULT_LIMIT,
  PROCESS_WATCH_MAX_LIMIT,
  processRow,
  processSort,
} from './processes.js';
import { snapshot } from './snapshot.js';

/** Largest client frame the server accepts (`maxPayload`). */
export const MAX_CLIENT_FRAME_BYTES = 4096;

const messageId = z.union([z.string().check(z.maxLength(64)), z.number().check(z.int())]);

export const hostInfo = z.object({ name: hostName, lastSeen: isoTimestamp });
export type HostInfo = z.infer<typeof hostInfo>;

export const pongMessage = z.object({
  type: z.literal('pong'),
  id: z.optional(messageId),
  timestamp: isoTimestamp,
});
export const errorMessage = z.object({
  type: z.literal('error'),
  error: z.string().check(z.minLength(1)),
  /** A stable machine-readable reason, e.g. `bad_json`, `unknown_type`. */
  code: z.optional(z.string()),
  timestamp: isoTimestamp,
});
export const hostsMessage = z.object({
  type: z.literal('hosts'),
  hosts: z.array(hostInfo),
});

/**
 * One alert transition, sent to every authenticated socket whatever it subscribed to, with the
 * whole active list after it (so a dashboard never has to patch its own).
 */
export const alertMessage = z.object({
  type: z.literal('alert'),
  event: alertEvent,
  active: z.array(activeAlert),
});
/** The active alerts, sent once when a socket is authenticated, so the bell is right at once. */
export const alertsMessage = z.object({
  type: z.literal('alerts'),
  active: z.array(activeAlert),
});

/**
 * A watched host's full process table, sent each tick to the sockets that sent
 * `watch_processes` for it: the first `limit` processes in the watch's `sort` order.
 */
export const processesMessage = z.object({
  type: z.literal('processes'),
  host: hostName,
  /** The timestamp of the snapshot the table was sampled with. */
  timestamp: isoTimestamp,
  sort: processSort,
  /** Processes on the host, of which `processes` lists the first `limit`. */
  total: z.number().check(z.int(), z.nonnegative()),
  ioUnavailableReason: z.nullable(z.string()),
  processes: z.array(processRow),
});

/** Every message the server sends on `/api/ws/metrics`. */
export const serverMessage = z.discriminatedUnion('type', [
  snapshot,
  pongMessage,
  errorMessage,
  hostsMessage,
  alertMessage,
  alertsMessage,
  appMessage,
  processesMessage,
  cgroupsMessage,
]);
export type ServerMessage = z.infer<typeof serverMessage>;
export type PongMessage = z.infer<typeof pongMessage>;
export type ErrorMessage = z.infer<typeof errorMessage>;
export type HostsMessage = z.infer<typeof hostsMessage>;
export type AlertMessage = z.infer<typeof alertMessage>;
export type AlertsMessage = z.infer<typeof alertsMessage>;
export type ProcessesMessage = z.infer<typeof processesMessage>;

export const pingMessage = z.object({ type: z.literal('ping'), id: z.optional(messageId) });
export const subscribeMessage = z.object({
  type: z.literal('subscribe'),
  /** Hosts to receive; an empty list means every host. */
  hosts: z.array(hostName).check(z.maxLength(1000)),
});
export const requestSnapshotMessage = z.object({ type: z.literal('request_snapshot') });
export const authMessage = z.object({
  type: z.literal('auth'),
  token: z.string().check(z.minLength(1), z.maxLength(2048)),
});
export const resumeMessage = z.object({
  type: z.literal('resume'),
  host: hostName,
  /** The timestamp of the last snapshot the client holds; the server sends those after it. */
  after: isoTimestamp,
});

/** Asks for a host's full process table each tick, until `unwatch_processes`. */
export const watchProcessesMessage = z.object({
  type: z.literal('watch_processes'),
  host: hostName,
  sort: z._default(processSort, 'cpu'),
  limit: z._default(
    z.number().check(z.int(), z.minimum(1), z.maximum(PROCESS_WATCH_MAX_LIMIT)),
    PROCESS_WATCH_DEFAULT_LIMIT,
  ),
});
/** Stops the process tables of one host, or of every host when `host` is left out. */
export const unwatchProcessesMessage = z.object({
  type: z.literal('unwatch_processes'),
  host: z.optional(hostName),
});

/** Every message a client may send on `/api/ws/metrics`. */
export const clientMessage = z.discriminatedUnion('type', [
  pingMessage,
  subscribeMessage,
  requestSnapshotMessage,
  authMessage,
  resumeMessage,
  watchProcessesMessage,
  unwatchProcessesMessage,
  watchCgroupsMessage,
  unwatchCgroupsMessage,
]);
export type ClientMessage = z.infer<typeof clientMessage>;
export type PingMessage = z.infer<typeof pingMessage>;
export type SubscribeMessage = z.infer<typeof subscribeMessage>;
export type RequestSnapshotMessage = z.infer<typeof requestSnapshotMessage>;
export type AuthMessage = z.infer<typeof authMessage>;
export type ResumeMessage = z.infer<typeof resumeMessage>;
export type WatchProcessesMessage = z.infer<typeof watchProcessesMessage>;
export type UnwatchProcessesMessage = z.infer<typeof unwatchProcessesMessage>;

/** WebSocket close codes the stream uses, with their meaning here. */
export const CLOSE_CODES = {
  normal: 1000,
  goingAway: 1001,
  policyViolation: 1008,
  messageTooBig: 1009,
  tryAgainLater: 1013,
} as const;
