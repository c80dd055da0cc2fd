/** The Fastify 5 + @fastify/session server (its defaults: a save on every request, `rolling`). */

import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import fastifyCookie from '@fastify/cookie';
import fastifySession from '@fastify/session';
import Fastify, { type FastifyRequest } from 'fastify';
import type { CommandCounter } from '../counter.ts';
import type { BenchApp, ServerConfig } from '../server.ts';
import { RawFastifyStore } from '../stores.ts';
import { type AppSession, accountView, applyWrite, cookieSecret, sessionData } from '../workload.ts';
import { builtAdapter, int, maxAgeMs } from './common.ts';
import { ourStore } from './ours.ts';

async function makeStore(
  config: ServerConfig,
  client: DynamoDBClient,
  counter: CommandCounter,
): Promise<object | undefined> {
  if (config.store.startsWith('ours')) {
    const { DynamoDBStore } = await builtAdapter('fastify');
    const ours = ourStore(DynamoDBStore, config, client, counter);
    if (ours) return ours;
  }
  switch (config.store) {
    case 'memory':
      return undefined; // @fastify/session's own MemoryStore
    case 'raw':
      return new RawFastifyStore(client, config.table);
  }
  throw new Error(`unknown fastify store ${config.store}`);
}

type Query = { u?: string; k?: string; q?: string; n?: string };

function data(request: FastifyRequest): Partial<AppSession> {
  return request.session as unknown as Partial<AppSession>;
}

export async function fastifyApp(
  config: ServerConfig,
  client: DynamoDBClient,
  counter: CommandCounter,
): Promise<BenchApp> {
  const store = await makeStore(config, client, counter);
  const app = Fastify({ logger: false });
  await app.register(fastifyCookie);
  await app.register(fastifySession, {
    secret: cookieSecret,
    saveUninitialized: false,
    cookie: { secure: false, maxAge: maxAgeMs },
    ...(store && { store: store as never }),
  });
  app.post<{ Querystring: Query }>('/login', async (request) => {
    const fresh = sessionData(int(request.query.u), config.sessionBytes);
    for (const [key, value] of Object.entries(fresh)) request.session.set(key as never, value as never);
    return { ok: true };
  });
  app.get('/account', async (request, reply) => {
    const s = data(request);
    if (!s.user) return reply.code(401).send({ error: 'no session' });
    return accountView(s as AppSession);
  });
  app.post<{ Querystring: Query }>('/cart', async (request, reply) => {
    const s = data(request);
    if (!s.user) return reply.code(401).send({ error: 'no session' });
    applyWrite(s as AppSession, int(request.query.k), int(request.query.q), int(request.query.n));
    return { ok: true, rev: (s as AppSession).cart.rev };
  });
  const listen = async (): Promise<number> => {
    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.server.address();
    return typeof address === 'object' && address ? address.port : 0;
  };
  const engine = (store as { engine?: { stats(): unknown } } | undefined)?.engine;
  return { listen, notes: [], ...(engine && { engineStats: () => engine.stats() }) };
}
