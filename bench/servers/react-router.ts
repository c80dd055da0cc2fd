/**
 * The React Router server: React Router's own request handling (`createRequestHandler`) of a small
 * server build of resource routes (route modules with a loader or an action and no component), on
 * node:http through @hono/node-server's `getRequestListener`. Each route commits the session on
 * every response, as React Router apps do; the session cookie is signed and lives a day.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { getRequestListener } from '@hono/node-server';
import {
  type ActionFunctionArgs,
  createCookie,
  createMemorySessionStorage,
  createRequestHandler,
  createSessionStorage,
  type LoaderFunctionArgs,
  type ServerBuild,
  type Session,
  type SessionStorage,
} from 'react-router';
import { resourceRoute, serverBuild } from '../../dev/react-router-build.ts';
import type { CommandCounter } from '../counter.ts';
import type { BenchApp, ServerConfig } from '../server.ts';
import { rawReactRouterStrategy } from '../stores.ts';
import { type AppSession, accountView, applyWrite, cookieSecret, sessionData } from '../workload.ts';
import { builtAdapter, int, listen, maxAgeMs } from './common.ts';
import { ourStoreFrom } from './ours.ts';

const cookie = createCookie('__session', {
  secrets: [cookieSecret],
  httpOnly: true,
  sameSite: 'lax',
  path: '/',
  maxAge: maxAgeMs / 1000,
});

async function makeStorage(
  config: ServerConfig,
  client: DynamoDBClient,
  counter: CommandCounter,
): Promise<SessionStorage> {
  if (config.store.startsWith('ours')) {
    const { createDynamoDBSessionStorage } = await builtAdapter('react-router');
    const make = (options: Record<string, unknown>) => createDynamoDBSessionStorage({ ...options, cookie });
    const ours = ourStoreFrom(make, config, client, counter);
    if (ours) return ours;
  }
  switch (config.store) {
    case 'memory':
      return createMemorySessionStorage({ cookie });
    case 'raw':
      return createSessionStorage({ cookie, ...rawReactRouterStrategy(client, config.table) });
  }
  throw new Error(`unknown react-router store ${config.store}`);
}

/** A route's answer: JSON, with the session committed. */
async function answer(storage: SessionStorage, session: Session, body: unknown): Promise<Response> {
  return Response.json(body, { headers: { 'Set-Cookie': await storage.commitSession(session) } });
}

const noSession = (): Response => Response.json({ error: 'no session' }, { status: 401 });

/** A server build of the three resource routes under an empty root route. */
function benchBuild(storage: SessionStorage, sessionBytes: number): ServerBuild {
  const session = (request: Request) => storage.getSession(request.headers.get('Cookie'));
  const query = (request: Request, name: string) => int(new URL(request.url).searchParams.get(name));
  const login = async ({ request }: ActionFunctionArgs) => {
    const s = await session(request);
    for (const [key, value] of Object.entries(sessionData(query(request, 'u'), sessionBytes)))
      s.set(key, value);
    return answer(storage, s, { ok: true });
  };
  const account = async ({ request }: LoaderFunctionArgs) => {
    const s = await session(request);
    const data = s.data as Partial<AppSession>;
    if (!data.user) return noSession();
    return answer(storage, s, accountView(data as AppSession));
  };
  const cart = async ({ request }: ActionFunctionArgs) => {
    const s = await session(request);
    const data = s.data as Partial<AppSession>;
    if (!data.user) return noSession();
    const app = data as AppSession;
    applyWrite(app, query(request, 'k'), query(request, 'q'), query(request, 'n'));
    // the cart was changed in place; `flash` and `visits` are new values
    s.set('flash', app.flash);
    s.set('visits', app.visits);
    return answer(storage, s, { ok: true, rev: app.cart.rev });
  };
  return serverBuild(
    [
      { id: 'root', path: '', module: resourceRoute({}) },
      { id: 'login', parentId: 'root', path: 'login', module: resourceRoute({ action: login }) },
      { id: 'account', parentId: 'root', path: 'account', module: resourceRoute({ loader: account }) },
      { id: 'cart', parentId: 'root', path: 'cart', module: resourceRoute({ action: cart }) },
    ],
    { default: () => new Response('Not Found', { status: 404 }) },
  );
}

export async function reactRouterApp(
  config: ServerConfig,
  client: DynamoDBClient,
  counter: CommandCounter,
): Promise<BenchApp> {
  const storage = await makeStorage(config, client, counter);
  const handler = createRequestHandler(benchBuild(storage, config.sessionBytes), 'production');
  const engine = (storage as { engine?: { stats(): unknown } }).engine;
  return {
    listen: () => listen(getRequestListener((request) => handler(request))),
    notes: [],
    ...(engine && { engineStats: () => engine.stats() }),
  };
}
