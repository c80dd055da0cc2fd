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

/** A route module of the build. Its type asks for a component; a resource route has none. */
type RouteModule = NonNullable<ServerBuild['routes'][string]>['module'];
const resource = (module: Partial<Pick<RouteModule, 'loader' | 'action'>>): RouteModule =>
  module as RouteModule;

/** A server build of the three resource routes under an empty root route. */
function serverBuild(storage: SessionStorage, sessionBytes: number): ServerBuild {
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
  return {
    entry: { module: { default: () => new Response('Not Found', { status: 404 }) } },
    routes: {
      root: { id: 'root', path: '', module: resource({}) },
      login: { id: 'login', parentId: 'root', path: 'login', module: resource({ action: login }) },
      account: { id: 'account', parentId: 'root', path: 'account', module: resource({ loader: account }) },
      cart: { id: 'cart', parentId: 'root', path: 'cart', module: resource({ action: cart }) },
    },
    assets: { entry: { imports: [], module: '' }, routes: {}, url: '', version: '1' },
    publicPath: '/',
    assetsBuildDirectory: '',
    future: {},
    ssr: true,
    isSpaMode: false,
    prerender: [],
    routeDiscovery: { mode: 'initial', manifestPath: '/__manifest' },
  };
}

export async function reactRouterApp(
  config: ServerConfig,
  client: DynamoDBClient,
  counter: CommandCounter,
): Promise<BenchApp> {
  const storage = await makeStorage(config, client, counter);
  const handler = createRequestHandler(serverBuild(storage, config.sessionBytes), 'production');
  const engine = (storage as { engine?: { stats(): unknown } }).engine;
  return {
    listen: () => listen(getRequestListener((request) => handler(request))),
    notes: [],
    ...(engine && { engineStats: () => engine.stats() }),
  };
}
