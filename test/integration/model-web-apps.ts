/**
 * The React Router and Hono apps of the model-based test, with the routes of model-apps.ts, served
 * on 127.0.0.1 by node:http through `@hono/node-server`'s `getRequestListener`:
 * - React Router: a server build of one resource route whose action calls `getSession`, changes the
 *   session with `get`/`set`/`unset`/`flash` and answers with `commitSession`'s (or
 *   `destroySession`'s) cookie. A save twice is two commits of one session object; there is no reload
 *   or regenerate.
 * - Hono: hono-sessions' `sessionMiddleware` with the DynamoDB store; a route changes the session
 *   with `get`/`set`/`forget`/`flash`, logs out with `deleteSession()`, and regenerate is a key
 *   rotation (`c.set('session_key_rotation', true)`). The session's data, as stored and answered, is
 *   hono-sessions' `_data`: each key's `{ value, flash }`.
 * The model changes its copy of the data through the same session classes (`createSession`,
 * hono-sessions' `Session`), as the routes do: `webChanged`.
 */
import { createServer } from 'node:http';
import { getRequestListener } from '@hono/node-server';
import { Hono } from 'hono';
import {
  Session as HonoSession,
  type SessionData as HonoSessionData,
  sessionMiddleware,
} from 'hono-sessions';
import {
  type ActionFunctionArgs,
  createCookie,
  createRequestHandler,
  createSession,
  type Session,
} from 'react-router';
import { DynamoDBStore as HonoStore } from '../../adapters/hono.ts';
import { createDynamoDBSessionStorage } from '../../adapters/react-router.ts';
import { resourceRoute, serverBuild } from '../../dev/react-router-build.ts';
import {
  act,
  type Change,
  changeSession,
  type Data,
  engineOptions,
  type Handle,
  jsonOf,
  type ModelApp,
  type ModelAppConfig,
  type SessionView,
  secret,
  served,
  Tracker,
} from './model-apps.ts';

export type WebFramework = 'react-router' | 'hono';

export interface WebAppConfig extends Omit<ModelAppConfig, 'framework'> {
  framework: WebFramework;
  /** React Router: the cookie's `maxAge` (a day) or none; Hono: `expireAfterSeconds` (a day) or none. */
  lifetime: boolean;
  /** hono-sessions' `autoExtendExpiration` (its default: true). */
  autoExtend: boolean;
}

/** s */
const DAY_S = 86_400;

function rrView(s: Session<Data, Data>): SessionView {
  return {
    get: (key) => s.get(key),
    set: (key, value) => s.set(key, value),
    unset: (key) => s.unset(key),
    flash: (key, value) => s.flash(key, value),
  };
}

function honoView(s: HonoSession<Data>): SessionView {
  return {
    get: (key) => s.get(key),
    set: (key, value) => s.set(key, value),
    unset: (key) => s.forget(key),
    flash: (key, value) => s.flash(key, value),
  };
}

/** The data after `changes`, made through the framework's own session class as the routes make them, as JSON stores it. */
export function webChanged(framework: WebFramework, base: Data, changes: Change[]): Data {
  if (framework === 'react-router') {
    const s = createSession<Data, Data>(structuredClone(base));
    for (const c of changes) changeSession(rrView(s), c);
    return jsonOf(s.data);
  }
  const s = new HonoSession<Data>();
  const entries = structuredClone(base) as HonoSessionData<Data>['_data'];
  s.setCache({ _data: entries, _expire: null, _delete: false, _accessed: null });
  for (const c of changes) changeSession(honoView(s), c);
  return jsonOf(s.getCache()._data);
}

const refused = (what: string) => () => Promise.reject(new Error(`${what} is not a route of this framework`));

export function startWebApp(config: WebAppConfig): Promise<ModelApp> {
  return config.framework === 'react-router' ? startReactRouter(config) : startHono(config);
}

async function startReactRouter(config: WebAppConfig): Promise<ModelApp> {
  const tracker = new Tracker();
  const cookie = createCookie('__session', {
    secrets: [secret],
    httpOnly: true,
    sameSite: 'lax',
    path: '/',
    ...(config.lifetime && { maxAge: DAY_S }),
  });
  const storage = createDynamoDBSessionStorage<Data, Data>({ cookie, ...engineOptions(config) });

  const action = async ({ request, params }: ActionFunctionArgs) => {
    const session = await storage.getSession(request.headers.get('Cookie'));
    // the cookies of the commits and destroys, in the order they were made: the last one is sent
    const outgoing: Promise<string>[] = [];
    let ended = false;
    let last: string | undefined;
    let lastId: string | null = null;
    const settle = async () => {
      last = (await Promise.all(outgoing)).at(-1);
      const value = last?.split(';')[0];
      const id: unknown = value ? await cookie.parse(value) : null;
      lastId = typeof id === 'string' && id !== '' ? id : null;
    };
    const handle: Handle = {
      change: (c) => changeSession(rrView(session), c),
      snapshot: () => jsonOf(session.data),
      id: () => (ended ? lastId : session.id || null),
      async save() {
        const committed = storage.commitSession(session);
        outgoing.push(committed);
        await committed;
      },
      // the route's own commit waits for this one: the answer is sent after both
      saveSetsCookie: false,
      reload: refused('reload'),
      regenerate: refused('regenerate'),
      async destroy() {
        const destroyed = storage.destroySession(session);
        outgoing.push(destroyed);
        await destroyed;
      },
      async end() {
        outgoing.push(storage.commitSession(session));
        ended = true;
        await settle();
      },
    };
    const url = new URL(request.url);
    const answer = await act(String(params.action), Object.fromEntries(url.searchParams), handle, tracker);
    await settle();
    return Response.json(answer, last === undefined ? {} : { headers: { 'Set-Cookie': last } });
  };

  const build = serverBuild(
    [
      { id: 'root', path: '', module: resourceRoute({}) },
      { id: 'act', parentId: 'root', path: ':action', module: resourceRoute({ action }) },
    ],
    {
      default: () => new Response('Not Found', { status: 404 }),
      handleError: (error) => {
        tracker.errors.push(error);
      },
    },
  );
  const handler = createRequestHandler(build, 'production');
  const server = createServer(getRequestListener((request) => handler(request)));
  return served(server, tracker, storage);
}

interface HonoEnv {
  Variables: { session: HonoSession<Data>; session_key_rotation: boolean };
}

async function startHono(config: WebAppConfig): Promise<ModelApp> {
  const tracker = new Tracker();
  const store = new HonoStore(engineOptions(config));
  const app = new Hono<HonoEnv>();
  app.use(
    '*',
    sessionMiddleware({
      store,
      encryptionKey: secret,
      cookieOptions: { path: '/', httpOnly: true, sameSite: 'Lax' },
      ...(config.lifetime && { expireAfterSeconds: DAY_S }),
      autoExtendExpiration: config.autoExtend,
    }),
  );
  app.post('/:action', async (c) => {
    const session = c.get('session');
    // hono-sessions makes the rotated key after the route: it is unknown here
    let rotated = false;
    const handle: Handle = {
      change: (change) => changeSession(honoView(session), change),
      snapshot: () => jsonOf(session.getCache()._data),
      id: () => (rotated ? null : (session.getCache()._id ?? null)),
      save: refused('an explicit save'),
      saveSetsCookie: false,
      reload: refused('reload'),
      async regenerate(keep) {
        if (!keep) for (const key of Object.keys(session.getCache()._data)) session.forget(key);
        c.set('session_key_rotation', true);
        rotated = true;
      },
      async destroy() {
        session.deleteSession();
      },
    };
    return c.json(await act(c.req.param('action'), c.req.query(), handle, tracker));
  });
  app.onError((err, c) => {
    tracker.errors.push(err);
    return c.json({ error: err.message }, 500);
  });
  const server = createServer(getRequestListener(app.fetch));
  return served(server, tracker, store);
}
