import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import fastifyCookie from '@fastify/cookie';
import fastifySession from '@fastify/session';
import Fastify, { type FastifyInstance, type Session } from 'fastify';
import { type DynamoDBSessionsOptions, DynamoDBStore, dynamodbSessions } from '../../adapters/fastify.ts';
import { hashOfId } from '../../src/format/keys.ts';
import {
  CookieJar,
  clientWithFailingWrites,
  countCommands,
  downClient,
  freshTable,
  keyOf,
  localClient,
  optionsOf,
  request,
  sleep,
} from './helpers.ts';

declare module 'fastify' {
  interface Session {
    user?: { name: string };
    big?: string;
    visits?: number;
  }
}

const client = await localClient();
const counter = countCommands(client);
const secret = 'a secret of at least thirty-two characters';
const day = 86_400_000; // ms
let tableName = '';
const apps: FastifyInstance[] = [];
let probes = 0; // how many times the /probe route ran

before(async () => {
  tableName = await freshTable(client);
});
after(async () => {
  await Promise.all(apps.map((app) => app.close()));
});

/** Lets a test hold a request after its session was loaded. */
let slowGate: Promise<void> = Promise.resolve();
let onSlowLoaded = () => {};

function routes(app: FastifyInstance): void {
  app.get('/slow', async (req) => {
    onSlowLoaded();
    await slowGate;
    return { user: req.session.user ?? null };
  });
  app.post<{ Body: { name: string } }>('/login', async (req) => {
    await req.session.regenerate();
    req.session.user = { name: req.body.name };
    return { id: req.session.sessionId };
  });
  app.get('/me', async (req) => ({ user: req.session.user ?? null, id: req.session.sessionId }));
  app.post('/visit', async (req) => {
    req.session.visits = (req.session.visits ?? 0) + 1;
    return { visits: req.session.visits };
  });
  app.post('/logout', async (req) => {
    await req.session.destroy();
    return { ok: true };
  });
  app.post('/big', async (req) => {
    req.session.big = 'x'.repeat(500_000);
    return { ok: true };
  });
  app.get('/probe', async () => {
    probes++;
    return { ok: true };
  });
  app.get('/signed', async (_req, reply) => reply.setCookie('s', 'v', { signed: true }).send({ ok: true }));
}

async function makeApp(
  options: Partial<DynamoDBSessionsOptions> = {},
  setup: (app: FastifyInstance) => Promise<void> = async () => {},
  fastifyOptions: { trustProxy?: boolean } = {},
): Promise<FastifyInstance> {
  const app = Fastify(fastifyOptions);
  apps.push(app);
  await setup(app);
  await app.register(dynamodbSessions, { secret, client, tableName, cookie: { maxAge: day }, ...options });
  routes(app);
  await app.ready();
  return app;
}

/** One inject request carrying `cookie`; returns the reply and the cookie to send next. */
async function send(app: FastifyInstance, method: 'GET' | 'POST', url: string, cookie = '', body?: object) {
  const res = await app.inject({
    method,
    url,
    headers: cookie ? { cookie } : {},
    ...(body && { payload: body }),
  });
  const set = res.cookies.find((c) => c.name === 'sessionId');
  return {
    res,
    json: () => res.json() as Record<string, unknown>,
    cookie: set ? `sessionId=${set.value}` : cookie,
  };
}

async function login(app: FastifyInstance, name = 'ada') {
  const r = await send(app, 'POST', '/login', '', { name });
  assert.equal(r.res.statusCode, 200);
  return { cookie: r.cookie, id: String(r.json().id) };
}

async function rawItem(id: string) {
  const out = await client.send(
    new GetItemCommand({ TableName: tableName, Key: { id: { S: keyOf(id) } }, ConsistentRead: true }),
  );
  return out.Item;
}

async function expireItem(id: string, expiresAtSec: number) {
  await client.send(
    new UpdateItemCommand({
      TableName: tableName,
      Key: { id: { S: keyOf(id) } },
      UpdateExpression: 'SET #e = :e',
      ExpressionAttributeNames: { '#e': 'expires' },
      ExpressionAttributeValues: { ':e': { N: String(expiresAtSec) } },
    }),
  );
}

const nowSec = () => Math.floor(Date.now() / 1000);

describe('plugin over a listening server (127.0.0.1, cookie jar)', () => {
  let base = '';
  before(async () => {
    const app = await makeApp();
    base = await app.listen({ host: '127.0.0.1', port: 0 });
  });

  test('login, read and logout: stored, served, then tombstoned and no longer served', async () => {
    const jar = new CookieJar();
    const login = await request(base, '/login', jar, { method: 'POST', body: { name: 'ada' } });
    assert.equal(login.status, 200);
    const id = String((login.body as { id: string }).id);
    assert.ok(jar.cookies.has('sessionId'), 'the session cookie is set over plain HTTP');
    const stored = await rawItem(id);
    assert.deepEqual(stored?.sess?.M?.user, { M: { name: { S: 'ada' } } });

    assert.deepEqual((await request(base, '/me', jar)).body, { user: { name: 'ada' }, id });

    const stolen = jar.header();
    assert.equal((await request(base, '/logout', jar, { method: 'POST' })).status, 200);
    const tomb = await rawItem(id);
    assert.ok(tomb?.destroyed, 'the item is a tombstone');
    assert.equal(tomb?.sess, undefined);

    const replay = new CookieJar();
    for (const pair of stolen.split('; ')) {
      const [k = '', v = ''] = pair.split('=');
      replay.cookies.set(k, v);
    }
    const after = (await request(base, '/me', replay)).body as { user: unknown; id: string };
    assert.equal(after.user, null);
    assert.notEqual(after.id, id, 'the destroyed id is never served again');
  });

  test('regenerate gives a new id; the old id is tombstoned and serves nothing', async () => {
    const jar = new CookieJar();
    const first = (await request(base, '/me', jar)).body as { id: string };
    assert.ok(await rawItem(first.id), 'an uninitialized session is saved by default');
    const oldCookie = jar.header();
    const login = await request(base, '/login', jar, { method: 'POST', body: { name: 'bob' } });
    const newId = (login.body as { id: string }).id;
    assert.notEqual(newId, first.id);
    assert.ok((await rawItem(first.id))?.destroyed);
    assert.deepEqual(((await request(base, '/me', jar)).body as { user: unknown }).user, { name: 'bob' });

    const old = new CookieJar();
    old.cookies.set('sessionId', oldCookie.slice('sessionId='.length));
    assert.equal(((await request(base, '/me', old)).body as { user: unknown }).user, null);
  });

  test('a session whose maxAge has run out is not served', async () => {
    const app = await makeApp({ cookie: { maxAge: 1000 } });
    const short = await app.listen({ host: '127.0.0.1', port: 0 });
    const jar = new CookieJar();
    const login = await request(short, '/login', jar, { method: 'POST', body: { name: 'eve' } });
    const id = (login.body as { id: string }).id;
    const raw = jar.header();
    await sleep(2100);
    const replay = new CookieJar();
    replay.cookies.set('sessionId', raw.slice('sessionId='.length));
    const me = (await request(short, '/me', replay)).body as { user: unknown; id: string };
    assert.equal(me.user, null);
    assert.notEqual(me.id, id);
  });
});

describe('plugin through inject', () => {
  test('every default: secure auto (no Secure flag over HTTP), SameSite=Lax, HttpOnly, engine defaults', async () => {
    const app = await makeApp({ cookie: {} });
    const r = await send(app, 'GET', '/me');
    const cookie = r.res.cookies.find((c) => c.name === 'sessionId');
    assert.ok(cookie, 'saveUninitialized defaults to true: a new session is stored and its cookie set');
    assert.equal(cookie.secure, undefined);
    assert.equal(cookie.sameSite, 'Lax');
    assert.equal(cookie.httpOnly, true);
    assert.equal(cookie.expires, undefined, 'without maxAge it is a browser-session cookie');
    const item = await rawItem(String(r.json().id));
    const expires = Number(item?.expires?.N);
    assert.ok(Math.abs(expires - (nowSec() + 86_400)) <= 2, 'a browser-session item lives for ttl');
    const o = optionsOf(app.dynamodbStore.engine);
    assert.deepEqual([o.touchAfter, o.ttl, o.tableName], [3600, 86_400, tableName]);
  });

  test('an unmodified request that ends after a concurrent change does not write its stale copy back', async () => {
    const app = await makeApp();
    const { cookie, id } = await login(app, 'gil');
    let release = () => {};
    slowGate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const loaded = new Promise<void>((resolve) => {
      onSlowLoaded = resolve;
    });
    const slow = send(app, 'GET', '/slow', cookie);
    await loaded;
    assert.equal((await send(app, 'POST', '/visit', cookie)).res.statusCode, 200);
    counter.reset();
    release();
    assert.equal((await slow).res.statusCode, 200);
    assert.equal(counter.of('PutItemCommand'), 0, 'the slow request wrote nothing back');
    assert.deepEqual((await send(app, 'GET', '/me', cookie)).json(), { user: { name: 'gil' }, id });
    const item = await rawItem(id);
    assert.equal(item?.sess?.M?.visits?.N, '1', 'the concurrent change is kept');
    slowGate = Promise.resolve();
  });

  test('the plugin passes touchAfter to the store as given, and refuses a bad one', async () => {
    const touchAfter = async (options: Partial<DynamoDBSessionsOptions>) =>
      optionsOf((await makeApp(options)).dynamodbStore.engine).touchAfter;
    assert.equal(await touchAfter({}), 3600, 'the engine default');
    assert.equal(await touchAfter({ cookie: { maxAge: 600_000 }, touchAfter: 900 }), 900);
    await assert.rejects(makeApp({ touchAfter: -1 }), { code: 'ERR_INVALID_OPTION', option: 'touchAfter' });
  });

  test('an active session with a short maxAge outlives maxAge: its expiry keeps moving', async () => {
    const app = await makeApp({ cookie: { maxAge: 2000 } });
    const { cookie } = await login(app);
    for (let i = 0; i < 2; i++) {
      await sleep(1600);
      assert.deepEqual(
        (await send(app, 'GET', '/me', cookie)).json().user,
        { name: 'ada' },
        `after ${i + 1}`,
      );
    }
  });

  test('behind a trusted HTTPS proxy the cookie is Secure', async () => {
    const app = await makeApp({}, async () => {}, { trustProxy: true });
    const res = await app.inject({ method: 'GET', url: '/me', headers: { 'x-forwarded-proto': 'https' } });
    assert.equal(res.cookies.find((c) => c.name === 'sessionId')?.secure, true);
  });

  test('works with @fastify/cookie already registered, which is then not registered twice', async () => {
    const app = await makeApp({}, async (a) => {
      await a.register(fastifyCookie, { secret: 'cookie-secret' });
    });
    const { cookie, id } = await login(app);
    assert.deepEqual((await send(app, 'GET', '/me', cookie)).json(), { user: { name: 'ada' }, id });
    const signed = (await send(app, 'GET', '/signed')).res.cookies.find((c) => c.name === 's');
    assert.equal(app.unsignCookie(signed?.value ?? '').value, 'v', "the app's own cookie options are kept");
  });

  test('registers @fastify/cookie when it is missing', async () => {
    const app = await makeApp();
    assert.equal(app.hasPlugin('@fastify/cookie'), true);
    const { cookie, id } = await login(app);
    assert.deepEqual((await send(app, 'GET', '/me', cookie)).json(), { user: { name: 'ada' }, id });
  });

  test('saveUninitialized false: a visitor who stores nothing costs no write and gets no cookie', async () => {
    const app = await makeApp({ saveUninitialized: false });
    counter.reset();
    const r = await send(app, 'GET', '/me');
    assert.equal(r.cookie, '');
    assert.equal(counter.writes(), 0);
    assert.equal(counter.of('GetItemCommand'), 0);
  });

  test('rolling false: an unmodified request calls no set and sends no cookie', async () => {
    const app = await makeApp({ rolling: false, touchAfter: 0 });
    const { cookie } = await login(app);
    counter.reset();
    const r = await send(app, 'GET', '/me', cookie);
    assert.equal(r.res.cookies.length, 0);
    assert.equal(counter.writes(), 0);
    assert.equal(counter.of('GetItemCommand'), 1);
  });
});

describe('touch throttling (counted DynamoDB commands)', () => {
  test('inside touchAfter, unmodified requests cost one GetItem each and no write', async () => {
    const app = await makeApp();
    const { cookie, id } = await login(app);
    counter.reset();
    for (let i = 0; i < 20; i++) {
      const r = await send(app, 'GET', '/me', cookie);
      assert.equal(r.res.statusCode, 200);
      assert.ok(
        r.res.cookies.some((c) => c.name === 'sessionId'),
        'rolling: the cookie is renewed',
      );
    }
    assert.deepEqual(counter.counts, { GetItemCommand: 20 });
    assert.deepEqual((await send(app, 'GET', '/me', cookie)).json().user, { name: 'ada' });
    assert.ok(await rawItem(id));
  });

  test('1,000 unmodified requests with the default options cost 0 writes', async () => {
    const app = await makeApp();
    const { cookie } = await login(app);
    counter.reset();
    const started = Date.now();
    for (let batch = 0; batch < 100 && Date.now() - started < 60_000; batch++) {
      const replies = await Promise.all(Array.from({ length: 10 }, () => send(app, 'GET', '/me', cookie)));
      for (const r of replies) assert.equal(r.res.statusCode, 200);
    }
    assert.equal(counter.of('GetItemCommand'), 1000);
    assert.equal(counter.writes(), 0);
    console.log(`# 1,000 unmodified requests: ${counter.writes()} writes in ${Date.now() - started} ms`);
  });

  test('with touchAfter 0, each unmodified request costs exactly one UpdateItem and no PutItem', async () => {
    const app = await makeApp({ touchAfter: 0 });
    const { cookie } = await login(app);
    counter.reset();
    for (let i = 0; i < 5; i++) await send(app, 'GET', '/me', cookie);
    assert.deepEqual(counter.counts, { GetItemCommand: 5, UpdateItemCommand: 5 });
  });

  test('after the touchAfter window, one UpdateItem moves the expiry and the loaded cookie tells it', async () => {
    const app = await makeApp({ touchAfter: 2 });
    const { cookie, id } = await login(app);
    const before = Number((await rawItem(id))?.expires?.N);
    counter.reset();
    for (let i = 0; i < 3; i++) await send(app, 'GET', '/me', cookie);
    assert.equal(counter.writes(), 0);
    await sleep(2100);
    await send(app, 'GET', '/me', cookie);
    await send(app, 'GET', '/me', cookie);
    assert.deepEqual(counter.counts, { GetItemCommand: 5, UpdateItemCommand: 1 });
    const moved = Number((await rawItem(id))?.expires?.N);
    assert.ok(moved >= before + 2, `expiry moved from ${before} to ${moved}`);
    const loaded = await new Promise<Session | null | undefined>((resolve, reject) =>
      app.dynamodbStore.get(id, (err, s) => (err ? reject(err) : resolve(s))),
    );
    assert.equal(loaded?.cookie.expires?.getTime(), moved * 1000);
  });

  test('a modified session costs one PutItem; the data stored has no expiry inside the cookie', async () => {
    const app = await makeApp();
    const { cookie, id } = await login(app);
    counter.reset();
    assert.deepEqual((await send(app, 'POST', '/visit', cookie)).json(), { visits: 1 });
    assert.deepEqual((await send(app, 'POST', '/visit', cookie)).json(), { visits: 2 });
    assert.deepEqual(counter.counts, { GetItemCommand: 2, PutItemCommand: 2 });
    const stored = (await rawItem(id))?.sess?.M?.cookie?.M ?? {};
    assert.equal(stored.expires, undefined);
    assert.equal(stored.originalExpires, undefined);
    assert.equal(stored.originalMaxAge?.N, String(day));
  });

  test('a browser-session cookie (no maxAge) also costs no write when unmodified', async () => {
    const app = await makeApp({ cookie: {} });
    const { cookie } = await login(app);
    counter.reset();
    for (let i = 0; i < 5; i++) await send(app, 'GET', '/me', cookie);
    assert.deepEqual(counter.counts, { GetItemCommand: 5 });
  });
});

describe('expiry and the bare store', () => {
  test('an item whose expiry has passed is not served, before TTL deletes it', async () => {
    const app = await makeApp();
    const { cookie, id } = await login(app);
    await expireItem(id, nowSec() - 1);
    const me = (await send(app, 'GET', '/me', cookie)).json();
    assert.equal(me.user, null);
    assert.notEqual(me.id, id);
  });

  test('get restores cookie.expires from the item for maxAge cookies, keeps null for browser-session ones', async () => {
    const store = new DynamoDBStore({ client, tableName });
    const expiresAtSec = nowSec() + 500;
    await store.engine.set(
      'persistent',
      { cookie: { originalMaxAge: 1000, path: '/' } } as Session,
      expiresAtSec,
    );
    await store.engine.set('browser', { cookie: { originalMaxAge: null, expires: null } } as Session);
    const get = (id: string) =>
      new Promise<Session | null | undefined>((resolve, reject) =>
        store.get(id, (err, s) => (err ? reject(err) : resolve(s))),
      );
    assert.equal((await get('persistent'))?.cookie.expires?.getTime(), expiresAtSec * 1000);
    assert.equal((await get('browser'))?.cookie.expires, null);
    assert.equal(await get('missing'), null);
  });

  test('the bare DynamoDBStore works with @fastify/session registered by hand', async () => {
    const app = Fastify();
    apps.push(app);
    const store = new DynamoDBStore({ client, tableName });
    await app.register(fastifyCookie);
    await app.register(fastifySession, { secret, store, cookie: { secure: false, maxAge: day } });
    routes(app);
    const { cookie, id } = await login(app, 'grace');
    counter.reset();
    assert.deepEqual((await send(app, 'GET', '/me', cookie)).json(), { user: { name: 'grace' }, id });
    assert.equal(counter.writes(), 0);
    await send(app, 'POST', '/logout', cookie);
    assert.ok((await rawItem(id))?.destroyed);
  });

  test('closing the app leaves a client passed in usable', async () => {
    const app = await makeApp();
    await app.close();
    assert.equal(await new DynamoDBStore({ client, tableName }).engine.get('missing'), null);
  });
});

describe('errors', () => {
  test('DynamoDB down while loading: 503 through the error handler, the route never runs', async () => {
    const good = await makeApp();
    const { cookie } = await login(good);
    const down = await makeApp({ client: await downClient() });
    probes = 0;
    const r = await send(down, 'GET', '/me', cookie);
    assert.equal(r.res.statusCode, 503);
    assert.equal(r.json().code, 'ERR_STORE_UNAVAILABLE');
    assert.equal(r.json().user, undefined, 'no empty session is served');
    assert.equal((await send(down, 'GET', '/probe', cookie)).res.statusCode, 503);
    assert.equal(probes, 0);
  });

  test('DynamoDB down while saving a new session: 503, not a silent loss', async () => {
    const down = await makeApp({ client: await downClient() });
    const r = await send(down, 'POST', '/login', '', { name: 'ada' });
    assert.equal(r.res.statusCode, 503);
    assert.equal(r.json().code, 'ERR_STORE_UNAVAILABLE');
  });

  test('a login whose destroy of the old session fails answers 503 and moves no cookie: the old session stays', async () => {
    const { client: failing, failures } = await clientWithFailingWrites();
    const app = await makeApp({ client: failing });
    const { cookie, id } = await login(app, 'gil');
    failures.left = 1;
    const r = await send(app, 'POST', '/login', cookie, { name: 'hal' });
    assert.equal(failures.left, 0, 'the destroy was attempted');
    assert.equal(r.res.statusCode, 503);
    assert.equal(r.json().code, 'ERR_STORE_UNAVAILABLE');
    assert.equal(r.cookie, cookie, 'no cookie for another session');
    assert.deepEqual((await send(app, 'GET', '/me', cookie)).json(), { user: { name: 'gil' }, id });
  });

  test('a session over 400 KB fails the request with a clear error; the stored session is intact', async () => {
    const app = await makeApp();
    const { cookie, id } = await login(app);
    counter.reset();
    const r = await send(app, 'POST', '/big', cookie);
    assert.equal(r.res.statusCode, 500);
    assert.equal(r.json().code, 'ERR_SESSION_TOO_LARGE');
    assert.match(String(r.json().message), /too large/);
    assert.equal(counter.writes(), 0);
    assert.deepEqual((await send(app, 'GET', '/me', cookie)).json(), { user: { name: 'ada' }, id });
    assert.equal((await rawItem(id))?.sess?.M?.big, undefined);
  });
});

describe('per-user sessions through the store', () => {
  test("listUserSessions lists a user's devices; destroyUserSessions logs out the others", async () => {
    const usersTable = await freshTable(client, { userIndex: true });
    const app = await makeApp({ tableName: usersTable, userId: (s) => s.user?.name });
    const laptop = await login(app, 'lin');
    const phone = await login(app, 'lin');
    await login(app, 'someone-else');
    const listed = await app.dynamodbStore.listUserSessions('lin');
    assert.deepEqual(listed.map((s) => s.handle).sort(), [laptop.id, phone.id].map(hashOfId).sort());

    const result = await app.dynamodbStore.destroyUserSessions('lin', { except: laptop.id });
    assert.deepEqual(result, { destroyed: 1 });
    assert.deepEqual((await send(app, 'GET', '/me', laptop.cookie)).json().user, { name: 'lin' });
    assert.equal((await send(app, 'GET', '/me', phone.cookie)).json().user, null);
  });
});
