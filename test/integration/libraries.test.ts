/**
 * The session libraries apps use, run in their own code (from node_modules) against the store over
 * real HTTP: passport 0.5 and 0.7 and connect-flash on Express, @fastify/passport and @fastify/flash
 * on Fastify, koa-passport on Koa. Every case checks what the next request reads, that is what was
 * stored, most of them also on a second server (its own store on the same table), which remembers
 * nothing of the first. Every case runs with the store's cache on (its default) and off.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import { after, before, describe, test } from 'node:test';
import fastifyFlash from '@fastify/flash';
import flash from 'connect-flash';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import session from 'express-session';
import Fastify, { type FastifyPluginAsync, type preValidationAsyncHookHandler } from 'fastify';
import Koa from 'koa';
import koaPassport from 'koa-passport';
import passport07 from 'passport';
import passport05 from 'passport-0.5';
import { Strategy as LocalStrategy } from 'passport-local';
import { DynamoDBStore as ExpressStore } from '../../adapters/express.ts';
import { dynamodbSessions } from '../../adapters/fastify.ts';
import { dynamodbSession } from '../../adapters/koa.ts';
import { CookieJar, copyJar, freshTable, listen, localClient, request } from './helpers.ts';

const client = await localClient();
let tableName = '';
/** The secret of every app (Koa's key): both servers of a case accept each other's cookies. */
const secret = 'a libraries test secret of at least thirty-two characters';
const DAY_MS = 86_400_000; // ms
const closers: (() => Promise<void>)[] = [];

before(async () => {
  tableName = await freshTable(client);
});
after(async () => {
  await Promise.all(closers.map((close) => close()));
  client.destroy();
});

/** The store's options beside `client` and `tableName`. */
interface CacheMode {
  label: string;
  options: { cacheSize?: number };
}

const cacheModes: CacheMode[] = [
  { label: 'cache on (its default)', options: {} },
  { label: 'cache off (cacheSize: 0)', options: { cacheSize: 0 } },
];

interface User {
  id: string;
  name: string;
  password: string;
}

const users: readonly User[] = [
  { id: 'u-ada', name: 'ada', password: 'ada-password' },
  { id: 'u-grace', name: 'grace', password: 'grace-password' },
];

/** passport-local's verify function: the user whose name and password match, or `false`. */
function verify(username: string, password: string, done: (err: unknown, user?: User | false) => void): void {
  done(null, users.find((u) => u.name === username && u.password === password) ?? false);
}

function userById(id: unknown): User | undefined {
  return users.find((u) => u.id === id);
}

function idOf(user: unknown): string {
  if (typeof user === 'object' && user !== null && 'id' in user && typeof user.id === 'string')
    return user.id;
  throw new Error('not a user');
}

function nameOf(user: unknown): string | null {
  return typeof user === 'object' && user !== null && 'name' in user && typeof user.name === 'string'
    ? user.name
    : null;
}

/** The `messages` of a JSON body. */
function messagesOf(body: unknown): string[] {
  const messages =
    typeof body === 'object' && body !== null && 'messages' in body ? body.messages : undefined;
  return Array.isArray(messages) ? messages.map(String) : [];
}

/** Calls a method a library installed on a request or context (no types, or another version's). */
function callOn(target: object, method: string): unknown {
  const fn: unknown = Reflect.get(target, method);
  if (typeof fn !== 'function') throw new Error(`no ${method} on this request: is the library installed?`);
  return Reflect.apply(fn, target, []);
}

async function serve(server: Server): Promise<string> {
  closers.push(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  );
  return listen(server);
}

/**
 * Every app has `POST /visit` (a session before any login, as a login page makes) and the routes of
 * its libraries: `POST /login` (JSON `username`, `password`), `GET /me` (`{ user }`: the name, or
 * `null` when not authenticated), `POST /logout`; `POST /flash` (JSON `messages`, flashed as `info`),
 * `GET /flash` (`{ info }`: the `info` messages, read once).
 */
type Servers = [one: string, two: string];

type PassportVersion = '0.5' | '0.7';

/** express-session with the store, connect-flash, and passport with the local strategy. */
function expressApp(store: ExpressStore, version: PassportVersion): Express {
  const auth = version === '0.5' ? new passport05.Passport() : new passport07.Passport();
  auth.use(new LocalStrategy(verify));
  auth.serializeUser((user, done) => done(null, idOf(user)));
  auth.deserializeUser((id, done) => done(null, userById(id) ?? false));
  const app = express();
  app.use(express.json());
  app.use(session({ store, secret, resave: false, saveUninitialized: false, cookie: { maxAge: DAY_MS } }));
  app.use(flash());
  app.use(auth.initialize());
  app.use(auth.session());
  app.post('/visit', (req, res) => {
    Reflect.set(req.session, 'visited', true);
    res.json({ ok: true });
  });
  app.post('/login', auth.authenticate('local'), (req, res) => {
    res.json({ user: nameOf(req.user) });
  });
  app.get('/me', (req, res) => {
    res.json({ user: req.isAuthenticated() ? nameOf(req.user) : null });
  });
  app.post('/logout', (req, res, next) => {
    if (version === '0.7') {
      req.logout((err) => (err ? next(err) : res.json({ ok: true })));
      return;
    }
    // 0.5's logout is synchronous, without a callback: `delete req.session.passport.user`, in place
    callOn(req, 'logout');
    res.json({ ok: true });
  });
  app.post('/flash', (req, res) => {
    for (const message of messagesOf(req.body)) req.flash('info', message);
    res.json({ ok: true });
  });
  app.get('/flash', (req, res) => {
    res.json({ info: req.flash('info') });
  });
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (!res.headersSent) res.status(500).json({ error: String(err) });
  });
  return app;
}

async function expressServers(version: PassportVersion, cache: CacheMode): Promise<Servers> {
  const start = () =>
    serve(createServer(expressApp(new ExpressStore({ client, tableName, ...cache.options }), version)));
  return [await start(), await start()];
}

/** The part of @fastify/passport's `Authenticator` the app uses. */
interface FastifyAuthenticator {
  use(name: string, strategy: LocalStrategy): unknown;
  registerUserSerializer(fn: (user: unknown) => Promise<string>): void;
  registerUserDeserializer(fn: (id: unknown) => Promise<User | null>): void;
  initialize(): FastifyPluginAsync;
  secureSession(): FastifyPluginAsync;
  authenticate(strategy: string, options: { authInfo: boolean }): preValidationAsyncHookHandler;
}

function isFastifyAuthenticator(value: unknown): value is FastifyAuthenticator {
  const methods = [
    'use',
    'registerUserSerializer',
    'registerUserDeserializer',
    'initialize',
    'secureSession',
  ];
  return (
    typeof value === 'object' &&
    value !== null &&
    [...methods, 'authenticate'].every((m) => typeof Reflect.get(value, m) === 'function')
  );
}

/**
 * A new @fastify/passport `Authenticator`, loaded without the package's type definitions: they give
 * fastify's `Session` an `any` index signature in every file of the program, which would switch off
 * the typecheck of session keys (fastify-types.ts).
 */
function fastifyAuthenticator(): FastifyAuthenticator {
  const mod: unknown = createRequire(import.meta.url)('@fastify/passport');
  const Authenticator: unknown =
    typeof mod === 'object' && mod !== null ? Reflect.get(mod, 'Authenticator') : null;
  if (typeof Authenticator !== 'function') throw new Error('@fastify/passport exports no Authenticator');
  const auth: unknown = Reflect.construct(Authenticator, []);
  if (!isFastifyAuthenticator(auth)) throw new Error('not an @fastify/passport Authenticator');
  return auth;
}

/** The `dynamodbSessions` plugin, with @fastify/passport (local strategy) or @fastify/flash. */
async function fastifyServer(library: 'passport' | 'flash', cache: CacheMode): Promise<string> {
  const app = Fastify();
  closers.push(() => app.close());
  await app.register(dynamodbSessions, {
    secret,
    client,
    tableName,
    ...cache.options,
    cookie: { secure: false, maxAge: DAY_MS },
  });
  app.post('/visit', async (req) => {
    Reflect.set(req.session, 'visited', true);
    return { ok: true };
  });
  if (library === 'flash') {
    // registered alone: @fastify/passport registers it too, and a second registration is refused
    await app.register(fastifyFlash);
    app.post('/flash', async (req) => {
      for (const message of messagesOf(req.body)) req.flash('info', message);
      return { ok: true };
    });
    app.get('/flash', async (_req, reply) => ({ info: reply.flash('info') }));
  } else {
    const auth = fastifyAuthenticator();
    auth.use('local', new LocalStrategy(verify));
    auth.registerUserSerializer(async (user) => idOf(user));
    auth.registerUserDeserializer(async (id) => userById(id) ?? null);
    await app.register(auth.initialize());
    await app.register(auth.secureSession());
    app.post('/login', { preValidation: auth.authenticate('local', { authInfo: false }) }, async (req) => ({
      user: nameOf(Reflect.get(req, 'user')),
    }));
    app.get('/me', async (req) => ({
      user: callOn(req, 'isAuthenticated') === true ? nameOf(Reflect.get(req, 'user')) : null,
    }));
    app.post('/logout', async (req) => {
      await callOn(req, 'logout');
      return { ok: true };
    });
  }
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  assert.ok(typeof address === 'object' && address !== null);
  return `http://127.0.0.1:${address.port}`;
}

async function fastifyServers(library: 'passport' | 'flash', cache: CacheMode): Promise<Servers> {
  return [await fastifyServer(library, cache), await fastifyServer(library, cache)];
}

/** What koa-bodyparser does, in short: passport-local reads the credentials from `request.body`. */
async function readJsonBody(ctx: Koa.Context, next: Koa.Next): Promise<void> {
  if (ctx.is('application/json')) {
    const chunks: Buffer[] = [];
    for await (const chunk of ctx.req) chunks.push(Buffer.from(chunk));
    Reflect.set(ctx.request, 'body', JSON.parse(Buffer.concat(chunks).toString('utf8')));
  }
  await next();
}

/** koa-session through `dynamodbSession`, and koa-passport (its own passport 0.6) with the local strategy. */
async function koaServer(cache: CacheMode): Promise<string> {
  const auth = new koaPassport.KoaPassport();
  auth.use(new LocalStrategy(verify));
  auth.serializeUser((user, done) => done(null, idOf(user)));
  auth.deserializeUser((id, done) => done(null, userById(id) ?? false));
  const login = auth.authenticate('local');
  const app = new Koa();
  app.keys = [secret];
  app.silent = true;
  app.use(dynamodbSession(app, { client, tableName, ...cache.options, session: { maxAge: DAY_MS } }));
  app.use(readJsonBody);
  app.use(auth.initialize());
  app.use(auth.session());
  app.use(async (ctx, next) => {
    const route = `${ctx.method} ${ctx.path}`;
    if (route === 'POST /visit') {
      Reflect.set(ctx.session ?? {}, 'visited', true);
      ctx.body = { ok: true };
    } else if (route === 'POST /login') {
      await login(ctx, async () => {
        ctx.body = { user: nameOf(ctx.state.user) };
      });
    } else if (route === 'GET /me') {
      ctx.body = { user: callOn(ctx, 'isAuthenticated') === true ? nameOf(ctx.state.user) : null };
    } else if (route === 'POST /logout') {
      await callOn(ctx, 'logout');
      ctx.body = { ok: true };
    } else {
      await next();
    }
  });
  return serve(createServer(app.callback()));
}

async function koaServers(cache: CacheMode): Promise<Servers> {
  return [await koaServer(cache), await koaServer(cache)];
}

/** POSTs, asserts a 200, returns the body. */
async function post(base: string, path: string, jar: CookieJar, body?: unknown): Promise<unknown> {
  const res = await request(base, path, jar, { method: 'POST', ...(body !== undefined && { body }) });
  assert.equal(res.status, 200, `POST ${path} answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body;
}

/** GETs, asserts a 200, returns the body. */
async function get(base: string, path: string, jar: CookieJar): Promise<unknown> {
  const res = await request(base, path, jar);
  assert.equal(res.status, 200, `GET ${path} answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body;
}

async function logIn(base: string, jar: CookieJar, name: string): Promise<void> {
  const password = users.find((u) => u.name === name)?.password;
  assert.deepEqual(await post(base, '/login', jar, { username: name, password }), { user: name });
}

/** Who a request with the jar's cookie is authenticated as, on `base`. */
async function whoOn(base: string, jar: CookieJar): Promise<unknown> {
  return get(base, '/me', jar);
}

interface PassportCase {
  library: string;
  /** How the app logs out, for the titles. */
  logout: string;
  /** The library gives the session a new id at login and at logout. */
  regenerates: boolean;
  start(cache: CacheMode): Promise<Servers>;
}

const passportCases: PassportCase[] = [
  {
    library: 'passport 0.5 on Express',
    logout: 'req.logout() (a delete inside the stored object)',
    regenerates: false,
    start: (cache) => expressServers('0.5', cache),
  },
  {
    library: 'passport 0.7 on Express',
    logout: 'req.logout(cb)',
    regenerates: true,
    start: (cache) => expressServers('0.7', cache),
  },
  {
    library: '@fastify/passport on Fastify',
    logout: 'await request.logout()',
    regenerates: true,
    start: (cache) => fastifyServers('passport', cache),
  },
  {
    library: 'koa-passport on Koa',
    logout: 'await ctx.logout()',
    regenerates: true,
    start: (cache) => koaServers(cache),
  },
];

interface FlashCase {
  library: string;
  start(cache: CacheMode): Promise<Servers>;
}

const flashCases: FlashCase[] = [
  { library: 'connect-flash on Express', start: (cache) => expressServers('0.7', cache) },
  { library: '@fastify/flash on Fastify', start: (cache) => fastifyServers('flash', cache) },
];

function passportTests(c: PassportCase, cache: CacheMode): void {
  test(`${c.library}: a login made in a visitor's session is seen by the next request, on this server and on a second one`, async () => {
    const [one, two] = await c.start(cache);
    const jar = new CookieJar();
    await post(one, '/visit', jar);
    assert.deepEqual(await whoOn(one, jar), { user: null }, 'not authenticated before the login');
    await logIn(one, jar, 'ada');
    assert.deepEqual(await whoOn(one, jar), { user: 'ada' }, 'the next request on this server');
    assert.deepEqual(await whoOn(two, jar), { user: 'ada' }, 'the next request on the second server');
  });

  if (c.regenerates) {
    test(`${c.library}: the cookie from before the login opens no login, on either server`, async () => {
      const [one, two] = await c.start(cache);
      const jar = new CookieJar();
      await post(one, '/visit', jar);
      const visitor = copyJar(jar);
      await logIn(one, jar, 'ada');
      assert.notDeepEqual([...jar.cookies], [...visitor.cookies], 'the login sets a new session cookie');
      assert.deepEqual(await whoOn(one, visitor), { user: null }, 'the old cookie on this server');
      assert.deepEqual(await whoOn(two, visitor), { user: null }, 'the old cookie on the second server');
      assert.deepEqual(await whoOn(two, jar), { user: 'ada' }, 'the new cookie on the second server');
    });
  }

  test(`${c.library}: after ${c.logout}, no request is authenticated, on either server, with the cookie from before or after`, async () => {
    const [one, two] = await c.start(cache);
    const jar = new CookieJar();
    await logIn(one, jar, 'ada');
    // the logout request loads the stored login before changing it
    assert.deepEqual(await whoOn(two, jar), { user: 'ada' }, 'logged in before the logout');
    const loggedIn = copyJar(jar);
    await post(one, '/logout', jar);
    assert.deepEqual(await whoOn(one, jar), { user: null }, 'the next request on this server');
    assert.deepEqual(await whoOn(two, jar), { user: null }, 'the next request on the second server');
    assert.deepEqual(await whoOn(one, loggedIn), { user: null }, 'the cookie from before the logout, here');
    assert.deepEqual(
      await whoOn(two, loggedIn),
      { user: null },
      'the cookie from before the logout, on the second server',
    );
  });

  if (!c.regenerates) {
    test(`${c.library}: a second login (another user) in the same session is what the next requests see, on either server`, async () => {
      const [one, two] = await c.start(cache);
      const jar = new CookieJar();
      await logIn(one, jar, 'ada');
      // the same session id: the user is assigned inside the stored `passport` object
      await logIn(two, jar, 'grace');
      assert.deepEqual(await whoOn(two, jar), { user: 'grace' }, 'the next request on the same server');
      assert.deepEqual(await whoOn(one, jar), { user: 'grace' }, 'the next request on the other server');
    });
  }
}

function flashTests(c: FlashCase, cache: CacheMode): void {
  test(`${c.library}: two messages flashed in one request are both read by the next, and by no request after it`, async () => {
    const [one, two] = await c.start(cache);
    const jar = new CookieJar();
    await post(one, '/flash', jar, { messages: ['a', 'b'] });
    assert.deepEqual(await get(one, '/flash', jar), { info: ['a', 'b'] }, 'the next request reads both');
    assert.deepEqual(await get(one, '/flash', jar), { info: [] }, 'read once: the request after reads none');
    assert.deepEqual(await get(two, '/flash', jar), { info: [] }, 'read once: none on the second server');
  });

  test(`${c.library}: a message flashed on one server is read once on the second, then by neither`, async () => {
    const [one, two] = await c.start(cache);
    const jar = new CookieJar();
    await post(one, '/flash', jar, { messages: ['saved'] });
    assert.deepEqual(await get(two, '/flash', jar), { info: ['saved'] }, 'read on the second server');
    assert.deepEqual(await get(one, '/flash', jar), { info: [] }, 'not again on the first server');
    assert.deepEqual(await get(two, '/flash', jar), { info: [] }, 'not again on the second server');
  });

  test(`${c.library}: a message flashed after earlier ones were read is read once too`, async () => {
    const [one, two] = await c.start(cache);
    const jar = new CookieJar();
    await post(one, '/flash', jar, { messages: ['first'] });
    assert.deepEqual(await get(one, '/flash', jar), { info: ['first'] });
    // the session now holds a flash object: connect-flash adds to it in place
    await post(two, '/flash', jar, { messages: ['second'] });
    assert.deepEqual(await get(one, '/flash', jar), { info: ['second'] }, 'only the new message');
    assert.deepEqual(await get(two, '/flash', jar), { info: [] }, 'read once');
  });
}

for (const cache of cacheModes) {
  describe(`session libraries with the store's ${cache.label}`, () => {
    for (const c of passportCases) passportTests(c, cache);
    for (const c of flashCases) flashTests(c, cache);
  });
}
