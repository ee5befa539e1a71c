import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { wsTicketResponse, type Snapshot } from '@livestat/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, silentLogger, type TestDatabase } from '../../test/databases.js';
import {
  connect,
  openClient,
  snapshotOf,
  startStreamHarness,
  TEST_JWT_SECRET,
  waitUntil,
  type StreamHarness,
} from '../../test/stream-harness.js';
import { createRequireAuth } from '../auth/require-auth.js';
import {
  createMemoryTicketStore,
  createTicketRedeemer,
  WS_TICKET_TTL_MS,
  type TicketStore,
} from '../auth/ws-tickets.js';
import { createApp } from '../http/app.js';
import { createWsTicketRouter } from '../http/ws-ticket-route.js';
import { createUserStore } from '../storage/users.js';

const isSnapshot = (m: { type: string }): m is Snapshot => m.type === 'snapshot';

// The dashboard's way in: buy a ticket over HTTP with the bearer token, open the socket with
// `?ticket=`. A real Express app for the ticket, a real stream server for the socket, one
// users table and one ticket store behind both, as in one API process.

let database: TestDatabase;
let h: StreamHarness;
let api: Server;
let apiUrl: string;
let now = Date.now();
let tickets: TicketStore;
let failIssue = false;

beforeAll(async () => {
  database = await createTestDatabase('pglite');
  const store = createMemoryTicketStore({ now: () => now });
  tickets = {
    ...store,
    issue: (claims) => (failIssue ? Promise.reject(new Error('redis down')) : store.issue(claims)),
  };
  h = await startStreamHarness({
    database,
    redeemTicket: createTicketRedeemer({ tickets, users: createUserStore(database.db) }),
  });
  const requireAuth = createRequireAuth({ secret: TEST_JWT_SECRET, users: h.users });
  const app = createApp({
    logger: silentLogger,
    health: () => {
      throw new Error('not used');
    },
    routers: [createWsTicketRouter({ tickets, tokens: h.tokens, guards: [requireAuth] })],
  });
  api = app.listen(0, '127.0.0.1');
  await once(api, 'listening');
  apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
  h.bus.publish(snapshotOf('web-1'));
}, 60_000);

afterAll(async () => {
  api?.closeAllConnections();
  await new Promise((resolve) => api?.close(resolve));
  await h?.close();
  await database?.drop();
});

function buyTicket(token?: string): Promise<Response> {
  return fetch(`${apiUrl}/api/ws/ticket`, {
    method: 'POST',
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
  });
}

async function ticketFor(token: string): Promise<string> {
  const res = await buyTicket(token);
  expect(res.status).toBe(200);
  return wsTicketResponse.parse(await res.json()).ticket;
}

const ticketUrl = (ticket: string) => `ws://127.0.0.1:${h.port}/api/ws/metrics?ticket=${ticket}`;

async function expectRefused(url: string, reason: string): Promise<void> {
  const client = connect(url);
  const closed = await client.closed;
  expect({ ...closed, messages: client.messages.length }).toEqual({
    code: 1008,
    reason,
    messages: 0,
  });
}

describe('POST /api/ws/ticket', () => {
  it('sells a short ticket to the bearer of a token, and nobody else', async () => {
    const alice = await h.login('ticket-alice');
    const res = await buyTicket(alice.token);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const body = wsTicketResponse.parse(await res.json());
    expect(body.ticket).not.toContain(alice.token);
    const lifetime = Date.parse(body.expiresAt) - now;
    expect(lifetime).toBeGreaterThan(0);
    expect(lifetime).toBeLessThanOrEqual(WS_TICKET_TTL_MS);

    const refused = await buyTicket();
    expect(refused.status).toBe(401);
    expect(await refused.json()).toEqual({ error: 'authentication required' });
    expect((await buyTicket('not-a-jwt')).status).toBe(401);
  });

  it('answers 503 while the ticket store cannot be reached', async () => {
    const alice = await h.login('ticket-outage');
    failIssue = true;
    try {
      const res = await buyTicket(alice.token);
      expect(res.status).toBe(503);
      // A server fault, answered as every 5xx is: retried by the client, told nothing more.
      expect(await res.json()).toEqual({ error: 'internal error' });
    } finally {
      failIssue = false;
    }
  });
});

describe('the socket opened with ?ticket=', () => {
  it('streams to the ticket, and refuses it the second time with 1008 and no data', async () => {
    const alice = await h.login('ticket-once');
    const ticket = await ticketFor(alice.token);
    const client = await openClient(ticketUrl(ticket));
    await client.waitFor(isSnapshot, 'the latest snapshot on connect');
    await expectRefused(ticketUrl(ticket), 'invalid ticket');
    client.ws.close();
  });

  it('refuses an expired ticket, an unknown one, and a JWT passed off as a ticket', async () => {
    const alice = await h.login('ticket-expired');
    const ticket = await ticketFor(alice.token);
    now += WS_TICKET_TTL_MS;
    try {
      await expectRefused(ticketUrl(ticket), 'invalid ticket');
    } finally {
      now = Date.now();
    }
    await expectRefused(ticketUrl('made-up-ticket-of-a-plausible-length-000000'), 'invalid ticket');
    await expectRefused(ticketUrl(alice.token), 'invalid ticket');
  });

  it('takes the ticket over a bad ?token= beside it, and uses it up', async () => {
    const alice = await h.login('ticket-and-token');
    const ticket = await ticketFor(alice.token);
    const url = `${ticketUrl(ticket)}&token=not-a-jwt`;
    const client = await openClient(url);
    await client.waitFor(isSnapshot, 'the latest snapshot on connect');
    await expectRefused(url, 'invalid ticket');
    client.ws.close();
  });

  it("streams as the ticket's own user: removing that user closes the socket", async () => {
    const carol = await h.login('ticket-carol');
    const dave = await h.login('ticket-dave');
    const client = await openClient(ticketUrl(await ticketFor(carol.token)));
    const bystander = await openClient(ticketUrl(await ticketFor(dave.token)));
    await h.users.remove('ticket-carol');
    expect(await client.closed).toEqual({ code: 1008, reason: 'user removed' });
    expect(bystander.ws.readyState).toBe(bystander.ws.OPEN);
    bystander.ws.close();
  });

  it('refuses the ticket of a user deleted after buying it', async () => {
    const erin = await h.login('ticket-erin');
    const ticket = await ticketFor(erin.token);
    await h.users.remove('ticket-erin');
    await expectRefused(ticketUrl(ticket), 'invalid token');
  });

  it("cannot renew as someone else: another user's ticket is no token for `auth`", async () => {
    const frank = await h.login('ticket-frank');
    const grace = await h.login('ticket-grace');
    const client = await openClient(ticketUrl(await ticketFor(frank.token)));
    const gracesTicket = await ticketFor(grace.token);
    client.send({ type: 'auth', token: gracesTicket });
    expect(await client.closed).toEqual({ code: 1008, reason: 'invalid token' });
    // Still grace's, once: the failed renewal did not spend it.
    const graces = await openClient(ticketUrl(gracesTicket));
    await graces.waitFor(isSnapshot, "grace's snapshot");
    graces.ws.close();
  });

  it('closes 1008 token expired when the token the ticket was bought with runs out', async () => {
    const store = createMemoryTicketStore();
    const expiring = await startStreamHarness({ database, tokenLeewayMs: 0 });
    try {
      const { user } = await expiring.login('ticket-henry');
      const { ticket } = await store.issue({
        userId: user.id,
        username: user.username,
        role: user.role,
        expiresAtMs: Date.now() + 500,
      });
      const redeemTicket = createTicketRedeemer({ tickets: store, users: expiring.users });
      const other = await startStreamHarness({ database, tokenLeewayMs: 0, redeemTicket });
      try {
        const client = await openClient(
          `ws://127.0.0.1:${other.port}/api/ws/metrics?ticket=${ticket}`,
        );
        expect(await client.closed).toEqual({ code: 1008, reason: 'token expired' });
        await waitUntil(() => other.stream.connections() === 0, 'the socket to be gone');
      } finally {
        await other.close();
      }
    } finally {
      await expiring.close();
    }
  });
});
