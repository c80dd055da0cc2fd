/**
 * A React Router app for the tests: a hand-written server build (`ServerBuild`) answered by React
 * Router's own `createRequestHandler` in production mode, over HTTP on 127.0.0.1, its loaders and
 * actions using a DynamoDB session storage as an app's route modules do.
 *
 * Its document entry renders no React: it answers the deepest route's data (an action's, else the
 * loader's) as JSON, with the status and headers React Router hands it. Routes (document routes
 * unless said; commit options from the query: `maxAge` in seconds, `expires` in epoch ms):
 * - `GET  /me`: reads the session, commits it unchanged, answers `{ id, data }`; `gate=<name>` holds
 *   it after the load (protocol-apps' `Gate`)
 * - `GET  /notice`: reads the flash message `notice` (once), commits
 * - `POST /set?key=&value=` (or `?unset=`): sets (or unsets) one key, commits; `gate=<name>` as `/me`
 * - `POST /login?user=`: sets `user` and an empty `cart`, commits
 * - `POST /cart?item=`: pushes onto the loaded `cart.items` in place, commits
 * - `POST /flash?message=`: sets the flash message `notice`, commits
 * - `POST /twice?first=&second=`: sets `first`, commits without waiting, sets `second`, commits again
 * - `POST /destroy-then-commit`: destroySession, then a change and commitSession of the same object
 * - `POST /logout`: destroySession, redirects to `/me`
 * - `GET  /api/me`: a resource route (no component): reads the session and answers it as JSON
 */
import { createServer, type Server } from 'node:http';
import {
  type Cookie,
  createRequestHandler,
  data,
  type EntryContext,
  redirect,
  type ServerBuild,
  type Session,
} from 'react-router';
import type { DynamoDBSessionStorage } from '../../adapters/react-router.ts';
import { bodyOf, type CookieJar, listen } from './helpers.ts';
import { pass } from './protocol-apps.ts';

type Data = Record<string, unknown>;
type RouteModule = NonNullable<ServerBuild['routes'][string]>['module'];
type Handler = NonNullable<RouteModule['loader']>;

/** What a test sees of the app. */
export interface RouterApp {
  readonly base: string;
  /** What React Router passed to the entry's `handleError`. */
  readonly errors: unknown[];
  /** The data each loader or action found in its session, once `getSession` gave it one. */
  readonly seen: Data[];
}

const servers: Server[] = [];

/** Stops every app's server. */
export function closeApps(): void {
  for (const server of servers) {
    server.close();
    server.closeAllConnections();
  }
}

/** The commit options a request names: `maxAge` (seconds) or `expires` (epoch ms). */
function commitOptions(request: Request): { maxAge?: number; expires?: Date } {
  const q = new URL(request.url).searchParams;
  const maxAge = q.get('maxAge');
  const expires = q.get('expires');
  return {
    ...(maxAge !== null && { maxAge: Number(maxAge) }),
    ...(expires !== null && { expires: new Date(Number(expires)) }),
  };
}

/** The route modules: each loader and action uses the storage as an app's do. */
function routeModules(storage: DynamoDBSessionStorage, seen: Data[]): Record<string, Handler> {
  const { getSession, commitSession, destroySession } = storage;
  const load = async (request: Request): Promise<Session> => {
    const session = await getSession(request.headers.get('Cookie'));
    seen.push({ ...session.data });
    return session;
  };
  const query = (request: Request, name: string) => new URL(request.url).searchParams.get(name) ?? '';
  const answer = async (session: Session, request: Request, extra: Data = {}) =>
    data(
      { id: session.id, data: session.data, ...extra },
      { headers: { 'Set-Cookie': await commitSession(session, commitOptions(request)) } },
    );
  return {
    me: async ({ request }) => {
      const session = await load(request);
      await pass(query(request, 'gate'));
      return answer(session, request);
    },
    notice: async ({ request }) => {
      const session = await load(request);
      return answer(session, request, { notice: session.get('notice') ?? null });
    },
    set: async ({ request }) => {
      const session = await load(request);
      await pass(query(request, 'gate'));
      const unset = query(request, 'unset');
      if (unset) session.unset(unset);
      else session.set(query(request, 'key'), query(request, 'value'));
      return answer(session, request);
    },
    login: async ({ request }) => {
      const session = await load(request);
      session.set('user', query(request, 'user'));
      session.set('cart', { items: [] });
      return answer(session, request);
    },
    cart: async ({ request }) => {
      const session = await load(request);
      (session.get('cart') as { items: string[] }).items.push(query(request, 'item'));
      return answer(session, request);
    },
    flash: async ({ request }) => {
      const session = await load(request);
      session.flash('notice', query(request, 'message'));
      return answer(session, request);
    },
    twice: async ({ request }) => {
      const session = await load(request);
      session.set('first', query(request, 'first'));
      const first = commitSession(session); // not waited for
      session.set('second', query(request, 'second'));
      const second = await commitSession(session);
      const headers = new Headers();
      headers.append('Set-Cookie', await first);
      headers.append('Set-Cookie', second);
      return data({ cookies: [await first, second] }, { headers });
    },
    'destroy-then-commit': async ({ request }) => {
      const session = await load(request);
      await destroySession(session);
      session.set('after', 'destroy');
      return data({}, { headers: { 'Set-Cookie': await commitSession(session) } });
    },
    logout: async ({ request }) => {
      const session = await load(request);
      return redirect('/me', { headers: { 'Set-Cookie': await destroySession(session) } });
    },
    'api/me': async ({ request }) => {
      const session = await load(request);
      const headers = { 'Set-Cookie': await commitSession(session) };
      return Response.json({ id: session.id, data: session.data }, { headers });
    },
  };
}

const actions = new Set(['set', 'login', 'cart', 'flash', 'twice', 'destroy-then-commit', 'logout']);
const resources = new Set(['api/me']);
const Component = () => null;

/** The server build: a root route and one child route per handler, as the Vite plugin would make it. */
function serverBuild(storage: DynamoDBSessionStorage, app: Pick<RouterApp, 'errors' | 'seen'>): ServerBuild {
  const routes: ServerBuild['routes'] = {
    root: { id: 'root', path: '', module: { default: Component } },
  };
  const assetRoutes: ServerBuild['assets']['routes'] = {};
  for (const [id, handler] of Object.entries(routeModules(storage, app.seen))) {
    const module = actions.has(id) ? { action: handler } : { loader: handler };
    // a resource route is a module without a component; the type gives every module one
    const routeModule = (resources.has(id) ? module : { ...module, default: Component }) as RouteModule;
    routes[id] = { id, parentId: 'root', path: id, module: routeModule };
  }
  for (const [id, route] of Object.entries(routes)) {
    if (!route) continue;
    assetRoutes[id] = {
      id,
      ...(route.parentId !== undefined && { parentId: route.parentId }),
      ...(route.path !== undefined && { path: route.path }),
      hasAction: route.module.action !== undefined,
      hasLoader: route.module.loader !== undefined,
      hasClientAction: false,
      hasClientLoader: false,
      hasClientMiddleware: false,
      hasErrorBoundary: id === 'root',
      module: `/assets/${id}.js`,
      clientActionModule: undefined,
      clientLoaderModule: undefined,
      clientMiddlewareModule: undefined,
      hydrateFallbackModule: undefined,
    };
  }
  return {
    entry: {
      module: {
        default: (_request, status, headers, context) => documentResponse(status, headers, context),
        handleError: (error) => {
          app.errors.push(error);
        },
      },
    },
    routes,
    assets: {
      entry: { imports: [], module: '/assets/entry.client.js' },
      routes: assetRoutes,
      url: '/assets/manifest.js',
      version: 'test',
    },
    publicPath: '/assets/',
    assetsBuildDirectory: 'build/client/assets',
    future: {},
    ssr: true,
    isSpaMode: false,
    prerender: [],
    routeDiscovery: { mode: 'lazy', manifestPath: '/__manifest' },
  };
}

/** The document: the deepest route's data as JSON, with React Router's status and headers. */
async function documentResponse(status: number, headers: Headers, context: EntryContext): Promise<Response> {
  // the hydration data stream is read to its end, as a rendering would, so that its timer stops
  if (context.serverHandoffStream) await new Response(context.serverHandoffStream).arrayBuffer();
  const { actionData, loaderData, matches, errors } = context.staticHandlerContext;
  const leaf = matches.at(-1)?.route.id ?? '';
  const body = errors ? { errors: Object.keys(errors) } : (actionData?.[leaf] ?? loaderData[leaf] ?? null);
  headers.set('Content-Type', 'application/json');
  return new Response(JSON.stringify(body), { status, headers });
}

/** Node's request as a Fetch `Request` into `handler`, its `Response` back onto Node's response. */
function serve(handler: (request: Request) => Promise<Response>): Server {
  return createServer(async (incoming, outgoing) => {
    try {
      const headers = new Headers();
      for (const [name, value] of Object.entries(incoming.headers)) {
        for (const one of Array.isArray(value) ? value : [value])
          if (one !== undefined) headers.append(name, one);
      }
      const chunks: Buffer[] = [];
      for await (const chunk of incoming) chunks.push(chunk as Buffer);
      const method = incoming.method ?? 'GET';
      const body = method === 'GET' || method === 'HEAD' ? undefined : Buffer.concat(chunks);
      const response = await handler(
        new Request(`http://${incoming.headers.host}${incoming.url}`, {
          method,
          headers,
          ...(body && { body }),
        }),
      );
      outgoing.statusCode = response.status;
      response.headers.forEach((value, name) => {
        if (name !== 'set-cookie') outgoing.setHeader(name, value);
      });
      const cookies = response.headers.getSetCookie();
      if (cookies.length) outgoing.setHeader('Set-Cookie', cookies);
      outgoing.end(Buffer.from(await response.arrayBuffer()));
    } catch (err) {
      outgoing.statusCode = 500;
      outgoing.end(String(err));
    }
  });
}

/** Starts the app on 127.0.0.1 with its session storage. */
export async function startApp(storage: DynamoDBSessionStorage): Promise<RouterApp> {
  const app = { base: '', errors: [] as unknown[], seen: [] as Data[] };
  const handler = createRequestHandler(serverBuild(storage, app), 'production');
  const server = serve((request) => handler(request));
  servers.push(server);
  app.base = await listen(server);
  return app;
}

/**
 * Sends a request with the jar's cookies, stores the cookies it sets, and does not follow a
 * redirect (its Set-Cookie is the jar's): helpers' `request` follows them.
 */
export async function send(
  base: string,
  path: string,
  jar: CookieJar,
  method = 'GET',
): Promise<{ status: number; body: unknown; res: Response }> {
  const res = await fetch(base + path, { method, headers: { cookie: jar.header() }, redirect: 'manual' });
  jar.store(res);
  return { status: res.status, body: bodyOf(await res.text()), res };
}

/** The session id a cookie (a `Cookie` header or a `Set-Cookie` line) holds; `null` when none. */
export async function idIn(cookie: Cookie, header: string): Promise<string | null> {
  const value: unknown = await cookie.parse(header);
  return typeof value === 'string' && value !== '' ? value : null;
}
