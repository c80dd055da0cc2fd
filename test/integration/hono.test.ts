/**
 * The hono-sessions store in real Hono apps (hono 4, hono-sessions 0.8 `sessionMiddleware`) against
 * DynamoDB Local: through `app.request`, over HTTP with @hono/node-server (two servers, two stores,
 * one table), and as an AWS Lambda handler (`hono/aws-lambda`) invoked with API Gateway and Function
 * URL events.
 */
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { after, before, describe, test } from 'node:test';
import {
  type AttributeValue,
  type DynamoDBClient,
  GetItemCommand,
  ScanCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { createAdaptorServer } from '@hono/node-server';
import { Hono } from 'hono';
import { handle } from 'hono/aws-lambda';
import { type Session, type SessionData, sessionMiddleware } from 'hono-sessions';
import { DynamoDBStore, type DynamoDBStoreOptions } from '../../adapters/hono.ts';
import {
  bodyOf,
  type CommandCounter,
  CookieJar,
  clientWithFailingWrites,
  copyJar,
  countCommands,
  downClient,
  freshTable,
  keyOf,
  listen,
  localClient,
  localConfig,
  request,
  sleep,
  within,
} from './helpers.ts';
import {
  cookieValue,
  invokeFunctionUrl,
  invokeHttpApi,
  invokeRestApi,
  lambdaCookies,
} from './hono-lambda.ts';

type Data = Record<string, unknown>;
type HonoEnv = { Variables: { session: Session<Data>; session_key_rotation: boolean } };
interface Cart {
  items: string[];
  meta: Record<string, unknown>;
}

const reader = await localClient();
let tableName = '';
const servers: Server[] = [];
const stores: DynamoDBStore[] = [];
const nowSec = () => Math.floor(Date.now() / 1000);

before(async () => {
  tableName = await freshTable(reader);
});
after(() => {
  for (const s of servers) {
    s.close();
    s.closeAllConnections();
  }
  for (const store of stores) store.close();
});

/** Records every `persistSessionData` hono-sessions makes. */
class RecordingStore extends DynamoDBStore {
  persisted = 0;
  override persistSessionData(sessionId: string, sessionData: SessionData): Promise<void> {
    this.persisted++;
    return super.persistSessionData(sessionId, sessionData);
  }
}

/** A request held in its route after its session was loaded, until the test releases it. */
interface Gate {
  arrived: Promise<void>;
  release(): void;
}
interface GateInside {
  arrive(): void;
  released: Promise<void>;
}

interface AppOptions {
  /** Engine options; `client` is made (and counted) here unless `ownClient`. */
  engine?: DynamoDBStoreOptions;
  /** The store makes its own client from `clientConfig` (commands are then not counted). */
  ownClient?: boolean;
  client?: DynamoDBClient;
  expireAfterSeconds?: number;
  autoExtendExpiration?: boolean;
  encryptionKey?: string;
  /** A custom `app.onError` that records the error and answers with its status. */
  onError?: boolean;
}

interface TestApp {
  app: Hono<HonoEnv>;
  store: RecordingStore;
  counter: CommandCounter;
  /** `ConsistentRead` of every GetItem sent. */
  reads: unknown[];
  /** How many times a route ran. */
  runs: { count: number };
  /** Errors `app.onError` saw. */
  errors: { code?: unknown; status?: unknown }[];
  /** Holds the next `/hold?gate=<name>` request. */
  gate(name: string): Gate;
}

function cartOf(session: Session<Data>): Cart {
  const cart = session.get('cart');
  if (typeof cart !== 'object' || cart === null) throw new Error('no cart in the session');
  return cart as Cart;
}

function routes(app: Hono<HonoEnv>, runs: { count: number }, gates: Map<string, GateInside>): void {
  app.use('*', async (_c, next) => {
    runs.count++;
    await next();
  });
  const me = (session: Session<Data>) => ({
    user: session.get('user'),
    note: session.get('note'),
    other: session.get('other'),
    cart: session.get('cart'),
  });
  app.get('/me', (c) => c.json(me(c.get('session'))));
  app.get('/login', (c) => {
    const session = c.get('session');
    session.set('user', c.req.query('user') ?? 'ada');
    session.set('cart', { items: ['apple'], meta: { coupon: 'SAVE', gift: true } });
    return c.json(me(session));
  });
  app.get('/set', (c) => {
    const session = c.get('session');
    for (const [key, value] of Object.entries(c.req.query())) session.set(key, value);
    return c.json(me(session));
  });
  app.get('/cart/push', (c) => {
    cartOf(c.get('session')).items.push(c.req.query('item') ?? 'pear');
    return c.json({ ok: true });
  });
  app.get('/cart/drop-coupon', (c) => {
    delete cartOf(c.get('session')).meta.coupon;
    return c.json({ ok: true });
  });
  app.get('/flash', (c) => {
    c.get('session').flash('message', c.req.query('message') ?? 'saved');
    return c.json({ ok: true });
  });
  app.get('/read-flash', (c) => c.json({ message: c.get('session').get('message') }));
  app.get('/logout', (c) => {
    c.get('session').deleteSession();
    return c.json({ ok: true });
  });
  app.get('/rotate', (c) => {
    c.set('session_key_rotation', true);
    c.get('session').set('rotated', 'yes');
    return c.json({ ok: true });
  });
  app.get('/bigint', (c) => {
    c.get('session').set('n', 10n);
    return c.json({ ok: true });
  });
  app.get('/hold', async (c) => {
    const gate = gates.get(c.req.query('gate') ?? '');
    gate?.arrive();
    await gate?.released;
    const session = c.get('session');
    for (const [key, value] of Object.entries(c.req.query())) if (key !== 'gate') session.set(key, value);
    return c.json(me(session));
  });
}

/** A Hono app with hono-sessions on a DynamoDBStore; its client's commands are counted. */
async function makeApp(options: AppOptions = {}): Promise<TestApp> {
  const client = options.client ?? (await localClient());
  const counter = countCommands(client);
  const reads: unknown[] = [];
  client.middlewareStack.add(
    (next, context) => (args) => {
      if (context.commandName === 'GetItemCommand') {
        reads.push((args.input as { ConsistentRead?: unknown }).ConsistentRead);
      }
      return next(args);
    },
    { step: 'initialize', name: 'testConsistentReads' },
  );
  const store = new RecordingStore(
    options.ownClient
      ? { tableName, clientConfig: await localConfig(), ...options.engine }
      : { tableName, client, ...options.engine },
  );
  stores.push(store);
  const app = new Hono<HonoEnv>();
  const errors: TestApp['errors'] = [];
  if (options.onError) {
    app.onError((err, c) => {
      const e = err as { code?: unknown; status?: unknown };
      errors.push({ code: e.code, status: e.status });
      return c.json({ code: e.code }, typeof e.status === 'number' && e.status === 503 ? 503 : 500);
    });
  }
  app.use(
    '*',
    sessionMiddleware({
      store,
      ...(options.expireAfterSeconds !== undefined && { expireAfterSeconds: options.expireAfterSeconds }),
      ...(options.autoExtendExpiration !== undefined && {
        autoExtendExpiration: options.autoExtendExpiration,
      }),
      ...(options.encryptionKey !== undefined && { encryptionKey: options.encryptionKey }),
    }),
  );
  const runs = { count: 0 };
  const gates = new Map<string, GateInside>();
  routes(app, runs, gates);
  const gate = (name: string): Gate => {
    let arrive = () => {};
    let release = () => {};
    const arrived = new Promise<void>((resolve) => {
      arrive = resolve;
    });
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    gates.set(name, { arrive, released });
    return { arrived: within(arrived, 5_000, `request at gate ${name}`), release };
  };
  return { app, store, counter, reads, runs, errors, gate };
}

/** A request through Hono's own handling (`app.request`), with the jar's cookies. */
async function call(
  app: Hono<HonoEnv>,
  path: string,
  jar: CookieJar,
): Promise<{ status: number; body: unknown; res: Response }> {
  const res = await app.request(path, { headers: { cookie: jar.header() } });
  jar.store(res);
  return { status: res.status, body: bodyOf(await res.text()), res };
}

/** The session id the jar holds (hono-sessions' cookie `session`). */
function sidOf(jar: CookieJar): string {
  return jar.cookies.get('session') ?? '';
}

async function item(sid: string): Promise<Record<string, AttributeValue> | undefined> {
  const out = await reader.send(
    new GetItemCommand({ TableName: tableName, Key: { id: { S: keyOf(sid) } }, ConsistentRead: true }),
  );
  return out.Item;
}

async function expiresOf(sid: string): Promise<number> {
  return Number((await item(sid))?.expires?.N);
}

/** The stored value of a hono-sessions key (its entry's `value`), as DynamoDB holds it. */
async function storedValue(sid: string, key: string): Promise<AttributeValue | undefined> {
  return (await item(sid))?.sess?.M?.[key]?.M?.value;
}

async function login(app: Hono<HonoEnv>, jar: CookieJar, user = 'ada'): Promise<string> {
  const res = await call(app, `/login?user=${user}`, jar);
  assert.equal(res.status, 200);
  const sid = sidOf(jar);
  assert.equal((await storedValue(sid, 'user'))?.S, user, 'the login is stored');
  return sid;
}

function userOf(body: unknown): unknown {
  return (body as { user?: unknown }).user;
}

/** Moves a stored session's expiry into the past, as if TTL had not deleted it yet. */
async function expireInPlace(sid: string): Promise<void> {
  await reader.send(
    new UpdateItemCommand({
      TableName: tableName,
      Key: { id: { S: keyOf(sid) } },
      UpdateExpression: 'SET expires = :past',
      ExpressionAttributeValues: { ':past': { N: String(nowSec() - 10) } },
    }),
  );
}

describe('hono-sessions: reads and writes per request', () => {
  for (const expireAfterSeconds of [3600, undefined]) {
    const label = expireAfterSeconds ? `expireAfterSeconds ${expireAfterSeconds}` : 'no expireAfterSeconds';
    test(`${label}: a loaded unchanged session costs one eventually consistent GetItem and no write, although hono-sessions persists it every time`, async () => {
      const t = await makeApp({ ...(expireAfterSeconds && { expireAfterSeconds }) });
      const jar = new CookieJar();
      await login(t.app, jar);
      t.counter.reset();
      t.reads.length = 0;
      t.store.persisted = 0;
      for (let i = 0; i < 5; i++) {
        const res = await call(t.app, '/me', jar);
        assert.equal(userOf(res.body), 'ada');
      }
      assert.equal(t.store.persisted, 5, 'hono-sessions persisted on every request (its _accessed changed)');
      assert.deepEqual(t.counter.counts, { GetItemCommand: 5 });
      assert.ok(
        t.reads.every((r) => r !== true),
        `no consistent read: ${JSON.stringify(t.reads)}`,
      );
    });
  }

  // the two wait for touchAfter at the same time
  describe('once the expiry is due', { concurrency: true }, () => {
    for (const expireAfterSeconds of [3600, undefined]) {
      const label = expireAfterSeconds ? `expireAfterSeconds ${expireAfterSeconds}` : 'no expireAfterSeconds';
      test(`${label}: after touchAfter one expiry-only UpdateItem moves the expiry, then none again`, async () => {
        // touchAfter 3 s: expiries are whole seconds, and a loaded machine can take a second
        // between two requests; each check follows its request at once
        const t = await makeApp({
          engine: { touchAfter: 3 },
          ...(expireAfterSeconds && { expireAfterSeconds }),
        });
        const jar = new CookieJar();
        const sid = await login(t.app, jar);
        t.counter.reset();
        await call(t.app, '/me', jar);
        assert.equal(t.counter.writes(), 0, 'inside touchAfter');
        const first = await expiresOf(sid);
        await sleep(3_100);
        t.counter.reset();
        await call(t.app, '/me', jar);
        const due = { update: t.counter.of('UpdateItemCommand'), put: t.counter.of('PutItemCommand') };
        t.counter.reset();
        await call(t.app, '/me', jar);
        assert.equal(t.counter.writes(), 0, 'throttled again');
        assert.deepEqual(due, { update: 1, put: 0 });
        const moved = await expiresOf(sid);
        assert.ok(moved >= first + 3, `${moved} moved on from ${first}`);
        assert.equal((await storedValue(sid, 'user'))?.S, 'ada', 'the data is unchanged');
      });
    }
  });

  test('a new visitor with no data costs no read and no write, although hono-sessions sets a cookie', async () => {
    const t = await makeApp({ expireAfterSeconds: 600 });
    const jar = new CookieJar();
    const res = await call(t.app, '/me', jar);
    assert.deepEqual(res.body, { user: null, note: null, other: null, cart: null });
    const sid = sidOf(jar);
    assert.match(sid, /^[0-9a-f-]{36}$/, 'hono-sessions made an id and set its cookie');
    assert.deepEqual(t.counter.counts, {});
    assert.equal(await item(sid), undefined);
  });

  test('a visitor whose cookie names no stored session gets a new id, and nothing is stored', async () => {
    const t = await makeApp();
    const jar = new CookieJar();
    await call(t.app, '/me', jar);
    const first = sidOf(jar);
    t.counter.reset();
    await call(t.app, '/me', jar);
    const second = sidOf(jar);
    assert.notEqual(second, first);
    assert.equal(t.counter.writes(), 0);
    assert.equal(await item(second), undefined);
  });
});

describe('hono-sessions: expiry', () => {
  test("_expire from expireAfterSeconds becomes the item's expiry, and is what the next load hands out", async () => {
    const t = await makeApp({ expireAfterSeconds: 600 });
    const jar = new CookieJar();
    const sid = await login(t.app, jar);
    const expires = await expiresOf(sid);
    assert.ok(Math.abs(expires - (nowSec() + 600)) <= 2, `expires ${expires}`);
    const loaded = await t.store.getSessionById(sid);
    assert.equal(loaded?._expire, new Date(expires * 1000).toISOString());
    assert.equal(loaded?._accessed, null, 'the access time is not stored');
  });

  test("without expireAfterSeconds the item lives for the store's ttl", async () => {
    const t = await makeApp({ engine: { ttl: 900 } });
    const jar = new CookieJar();
    const sid = await login(t.app, jar);
    assert.ok(Math.abs((await expiresOf(sid)) - (nowSec() + 900)) <= 2);
  });

  test('without expireAfterSeconds or a ttl the item lives for the default ttl, one day', async () => {
    const t = await makeApp();
    const jar = new CookieJar();
    const sid = await login(t.app, jar);
    assert.ok(Math.abs((await expiresOf(sid)) - (nowSec() + 86_400)) <= 2);
  });

  test('a session past its expiry but still in the table is never served: a new empty session, a new cookie', async () => {
    const t = await makeApp({ expireAfterSeconds: 600 });
    const jar = new CookieJar();
    const sid = await login(t.app, jar);
    await expireInPlace(sid);
    const res = await call(t.app, '/me', jar);
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { user: null, note: null, other: null, cart: null });
    assert.notEqual(sidOf(jar), sid, 'a new cookie');
    assert.ok(Number((await item(sid))?.expires?.N) < nowSec(), 'the expired item was not written back');
  });

  test('autoExtendExpiration false: unchanged requests are not persisted and cost no write; a change takes the _expire hono-sessions gives it', async () => {
    const t = await makeApp({ expireAfterSeconds: 600, autoExtendExpiration: false });
    const jar = new CookieJar();
    const sid = await login(t.app, jar);
    const first = await expiresOf(sid);
    await sleep(1_100);
    t.counter.reset();
    t.store.persisted = 0;
    for (let i = 0; i < 3; i++) await call(t.app, '/me', jar);
    assert.deepEqual([t.store.persisted, t.counter.writes()], [0, 0]);
    assert.equal(await expiresOf(sid), first, 'the expiry stays');
    // hono-sessions' touch() on a changed session sets _expire to now + expireAfterSeconds
    await call(t.app, '/set?note=later', jar);
    assert.equal((await storedValue(sid, 'note'))?.S, 'later');
    const moved = await expiresOf(sid);
    assert.ok(moved > first && Math.abs(moved - (nowSec() + 600)) <= 2, `${moved} after ${first}`);
  });
});

describe('hono-sessions: logout', () => {
  test('deleteSession leaves a tombstone, and the cookie then finds no session', async () => {
    const t = await makeApp({ expireAfterSeconds: 600 });
    const jar = new CookieJar();
    const sid = await login(t.app, jar);
    const stolen = copyJar(jar);
    assert.equal((await call(t.app, '/logout', jar)).status, 200);
    const tomb = await item(sid);
    assert.equal(tomb?.sess, undefined, 'the data is gone');
    assert.ok(tomb?.destroyed, 'a tombstone');
    const res = await call(t.app, '/me', stolen);
    assert.equal(userOf(res.body), null);
    assert.notEqual(sidOf(stolen), sid);
  });

  for (const change of [true, false]) {
    test(`a request that loaded the session before the logout and ${change ? 'changes it' : 'changes nothing (expiry due)'} does not bring it back`, async () => {
      const t = await makeApp({ expireAfterSeconds: 600, engine: { touchAfter: 0 } });
      const jar = new CookieJar();
      const sid = await login(t.app, jar);
      const gate = t.gate('slow');
      const slow = call(t.app, `/hold?gate=slow${change ? '&note=stale' : ''}`, copyJar(jar));
      await gate.arrived;
      assert.equal((await call(t.app, '/logout', jar)).status, 200);
      gate.release();
      assert.equal((await slow).status, 200, 'not an error');
      const tomb = await item(sid);
      assert.equal(tomb?.sess, undefined, 'still no data');
      assert.ok(tomb?.destroyed, 'still a tombstone');
      assert.equal(t.store.engine.stats().skipped >= 1, true, 'the stale write was skipped');
    });
  }
});

describe('hono-sessions: every change is stored', () => {
  test('an item pushed in place onto a nested array, without session.set, is stored', async () => {
    const t = await makeApp();
    const jar = new CookieJar();
    const sid = await login(t.app, jar);
    await call(t.app, '/cart/push?item=pear', jar);
    const cart = (await call(t.app, '/me', jar)).body as { cart: Cart };
    assert.deepEqual(cart.cart.items, ['apple', 'pear']);
    const items = (await storedValue(sid, 'cart'))?.M?.items?.L?.map((v) => v.S);
    assert.deepEqual(items, ['apple', 'pear']);
  });

  test('a nested key deleted in place is deleted in the store', async () => {
    const t = await makeApp();
    const jar = new CookieJar();
    const sid = await login(t.app, jar);
    await call(t.app, '/cart/drop-coupon', jar);
    const meta = (await storedValue(sid, 'cart'))?.M?.meta?.M;
    assert.deepEqual(Object.keys(meta ?? {}), ['gift']);
    assert.deepEqual(((await call(t.app, '/me', jar)).body as { cart: Cart }).cart.meta, { gift: true });
  });

  test('a flash message is read once, then it is gone from the store', async () => {
    const t = await makeApp();
    const jar = new CookieJar();
    const sid = await login(t.app, jar);
    await call(t.app, '/flash?message=saved', jar);
    assert.equal((await item(sid))?.sess?.M?.message?.M?.flash?.BOOL, true);
    assert.deepEqual((await call(t.app, '/read-flash', jar)).body, { message: 'saved' });
    assert.equal((await item(sid))?.sess?.M?.message, undefined, 'gone from the store');
    assert.deepEqual((await call(t.app, '/read-flash', jar)).body, { message: null });
  });

  test('a flash message on a new visitor is stored with its session', async () => {
    const t = await makeApp();
    const jar = new CookieJar();
    await call(t.app, '/flash?message=welcome', jar);
    assert.deepEqual((await call(t.app, '/read-flash', jar)).body, { message: 'welcome' });
    assert.deepEqual((await call(t.app, '/read-flash', jar)).body, { message: null });
  });

  test('two requests that loaded the same session and set different keys: both are kept', async () => {
    const t = await makeApp();
    const jar = new CookieJar();
    const sid = await login(t.app, jar);
    const [a, b] = [t.gate('a'), t.gate('b')];
    const first = call(t.app, '/hold?gate=a&note=from-a', copyJar(jar));
    const second = call(t.app, '/hold?gate=b&other=from-b', copyJar(jar));
    await Promise.all([a.arrived, b.arrived]);
    a.release();
    b.release();
    assert.deepEqual([(await first).status, (await second).status], [200, 200]);
    assert.deepEqual(
      [(await storedValue(sid, 'note'))?.S, (await storedValue(sid, 'other'))?.S],
      ['from-a', 'from-b'],
    );
  });

  test('two requests that loaded the same session and set the same key: the later write wins', async () => {
    const t = await makeApp();
    const jar = new CookieJar();
    const sid = await login(t.app, jar);
    const [a, b] = [t.gate('a'), t.gate('b')];
    const first = call(t.app, '/hold?gate=a&note=first', copyJar(jar));
    const second = call(t.app, '/hold?gate=b&note=second', copyJar(jar));
    await Promise.all([a.arrived, b.arrived]);
    a.release();
    assert.equal((await first).status, 200);
    b.release();
    assert.equal((await second).status, 200);
    assert.equal((await storedValue(sid, 'note'))?.S, 'second');
    assert.equal((await storedValue(sid, 'user'))?.S, 'ada', 'the keys neither changed are kept');
  });
});

describe('hono-sessions: ids', () => {
  test('the table key is a hash of the session id: no item holds the id itself', async () => {
    const t = await makeApp();
    const jar = new CookieJar();
    const sid = await login(t.app, jar);
    assert.ok(await item(sid), 'stored under keyOf(sid)');
    const { Items = [] } = await reader.send(new ScanCommand({ TableName: tableName, ConsistentRead: true }));
    assert.ok(Items.length > 0);
    assert.equal(JSON.stringify(Items).includes(sid), false, 'the raw id is in no item');
  });

  test('key rotation moves the data to a new id and the old one is gone', async () => {
    const t = await makeApp({ expireAfterSeconds: 600 });
    const jar = new CookieJar();
    const oldSid = await login(t.app, jar);
    const stolen = copyJar(jar);
    assert.equal((await call(t.app, '/rotate', jar)).status, 200);
    const newSid = sidOf(jar);
    assert.notEqual(newSid, oldSid);
    assert.equal((await storedValue(newSid, 'user'))?.S, 'ada');
    assert.equal((await storedValue(newSid, 'rotated'))?.S, 'yes');
    assert.ok(Math.abs((await expiresOf(newSid)) - (nowSec() + 600)) <= 2, 'with its expiry');
    assert.ok((await item(oldSid))?.destroyed, 'the old id is a tombstone');
    assert.equal(userOf((await call(t.app, '/me', stolen)).body), null, 'the old cookie opens nothing');
    assert.equal(userOf((await call(t.app, '/me', jar)).body), 'ada');
  });

  test("key rotation on a new visitor's first request stores the data under the id of the cookie it gets", async () => {
    const t = await makeApp();
    const jar = new CookieJar();
    const res = await call(t.app, '/rotate', jar);
    assert.equal(res.res.headers.getSetCookie().length, 2, 'hono-sessions set the cookie twice');
    const sid = sidOf(jar);
    assert.equal((await storedValue(sid, 'rotated'))?.S, 'yes');
    assert.equal((await call(t.app, '/me', jar)).status, 200);
    assert.equal(sidOf(jar), sid, 'the cookie opens the session');
  });

  test('with an encryptionKey the cookie holds the encrypted id and the session is found', async () => {
    const t = await makeApp({ encryptionKey: 'an encryption key of at least thirty-two characters' });
    const jar = new CookieJar();
    await call(t.app, '/login?user=ada', jar);
    const cookie = sidOf(jar);
    assert.doesNotMatch(cookie, /^[0-9a-f-]{36}$/, 'not the plain id');
    assert.equal(userOf((await call(t.app, '/me', jar)).body), 'ada');
  });
});

describe('hono-sessions: errors never look like an empty session', () => {
  test("DynamoDB down: a request with a session cookie gets Hono's default 503 and the route never runs", async () => {
    const healthy = await makeApp();
    const jar = new CookieJar();
    const sid = await login(healthy.app, jar);
    const down = await makeApp({ client: await downClient() });
    const res = await call(down.app, '/me', jar);
    assert.equal(res.status, 503);
    assert.equal(down.runs.count, 0, 'the route never ran');
    assert.doesNotMatch(
      String(res.body),
      new RegExp(`${tableName}|127\\.0\\.0\\.1|GetItem`),
      'tells nothing',
    );
    assert.equal(sidOf(jar), sid, 'no new cookie');
    assert.equal(userOf((await call(healthy.app, '/me', jar)).body), 'ada', 'the session is intact');
  });

  test('DynamoDB down: app.onError gets the typed error, code ERR_STORE_UNAVAILABLE', async () => {
    const healthy = await makeApp();
    const jar = new CookieJar();
    await login(healthy.app, jar);
    const down = await makeApp({ client: await downClient(), onError: true });
    const res = await call(down.app, '/me', jar);
    assert.equal(res.status, 503);
    assert.deepEqual(down.errors, [{ code: 'ERR_STORE_UNAVAILABLE', status: 503 }]);
  });

  test('a failing write answers 503, and the stored session is unchanged', async () => {
    const { client, failures } = await clientWithFailingWrites();
    const t = await makeApp({ client, onError: true });
    const jar = new CookieJar();
    const sid = await login(t.app, jar);
    failures.left = 1;
    const res = await call(t.app, '/set?note=lost', jar);
    assert.equal(failures.left, 0, 'the write was attempted');
    assert.equal(res.status, 503);
    assert.deepEqual(t.errors, [{ code: 'ERR_STORE_UNAVAILABLE', status: 503 }]);
    assert.equal(await storedValue(sid, 'note'), undefined);
  });

  test("a failing write with Hono's default handler answers 503", async () => {
    const { client, failures } = await clientWithFailingWrites();
    const t = await makeApp({ client });
    failures.left = 1;
    const res = await call(t.app, '/login?user=ada', new CookieJar());
    assert.equal(res.status, 503);
  });

  test('a BigInt in the session: a typed 500 error, nothing stored, the process goes on', async () => {
    const t = await makeApp({ onError: true });
    const jar = new CookieJar();
    const sid = await login(t.app, jar);
    const before = await item(sid);
    const res = await call(t.app, '/bigint', jar);
    assert.equal(res.status, 500);
    assert.deepEqual(t.errors, [{ code: 'ERR_SESSION_DATA', status: 500 }]);
    assert.deepEqual(await item(sid), before);
    assert.equal(userOf((await call(t.app, '/me', jar)).body), 'ada');
  });
});

describe('hono-sessions: the store with its own client and with a client passed in', () => {
  for (const ownClient of [true, false]) {
    test(`${ownClient ? 'its own client (clientConfig)' : 'a client passed in'}: login, read, change, logout`, async () => {
      const t = await makeApp({ ownClient, expireAfterSeconds: 600 });
      const jar = new CookieJar();
      const sid = await login(t.app, jar);
      assert.equal(userOf((await call(t.app, '/me', jar)).body), 'ada');
      await call(t.app, '/set?note=kept', jar);
      assert.equal((await storedValue(sid, 'note'))?.S, 'kept');
      await call(t.app, '/logout', jar);
      assert.ok((await item(sid))?.destroyed);
      assert.equal(userOf((await call(t.app, '/me', jar)).body), null);
      const gets = t.store.engine.stats().operations.GetItem?.calls ?? 0;
      assert.ok(gets >= 3, `${gets} GetItem through the store`);
      // the client made by the test was used only when it was passed in
      assert.equal(t.counter.of('GetItemCommand'), ownClient ? 0 : gets);
    });
  }
});

describe('hono-sessions over HTTP: two servers, two stores, one table', () => {
  async function serve(): Promise<{ base: string; t: TestApp }> {
    const t = await makeApp({ expireAfterSeconds: 600 });
    const server = createAdaptorServer({ fetch: t.app.fetch }) as Server;
    servers.push(server);
    return { base: await listen(server), t };
  }

  test('a login on one server is read on the other', async () => {
    const [a, b] = [await serve(), await serve()];
    const jar = new CookieJar();
    assert.equal((await request(a.base, '/login?user=ada', jar)).status, 200);
    assert.equal(userOf((await request(b.base, '/me', jar)).body), 'ada');
  });

  test('concurrent requests on the two servers setting different keys: both are kept', async () => {
    const [a, b] = [await serve(), await serve()];
    const jar = new CookieJar();
    await request(a.base, '/login?user=ada', jar);
    const sid = sidOf(jar);
    const [ga, gb] = [a.t.gate('x'), b.t.gate('x')];
    const first = request(a.base, '/hold?gate=x&note=from-a', copyJar(jar));
    const second = request(b.base, '/hold?gate=x&other=from-b', copyJar(jar));
    await Promise.all([ga.arrived, gb.arrived]);
    gb.release();
    ga.release();
    assert.deepEqual([(await first).status, (await second).status], [200, 200]);
    assert.deepEqual(
      [(await storedValue(sid, 'note'))?.S, (await storedValue(sid, 'other'))?.S],
      ['from-a', 'from-b'],
    );
    assert.deepEqual((await request(a.base, '/me', jar)).body, {
      user: 'ada',
      note: 'from-a',
      other: 'from-b',
      cart: { items: ['apple'], meta: { coupon: 'SAVE', gift: true } },
    });
  });

  test('the same key set on both servers: the later write wins', async () => {
    const [a, b] = [await serve(), await serve()];
    const jar = new CookieJar();
    await request(a.base, '/login?user=ada', jar);
    const sid = sidOf(jar);
    const [ga, gb] = [a.t.gate('x'), b.t.gate('x')];
    const first = request(a.base, '/hold?gate=x&note=from-a', copyJar(jar));
    const second = request(b.base, '/hold?gate=x&note=from-b', copyJar(jar));
    await Promise.all([ga.arrived, gb.arrived]);
    gb.release();
    assert.equal((await second).status, 200);
    ga.release();
    assert.equal((await first).status, 200);
    assert.equal((await storedValue(sid, 'note'))?.S, 'from-a');
  });

  test('a logout on one server is final for a request in flight on the other', async () => {
    const [a, b] = [await serve(), await serve()];
    const jar = new CookieJar();
    await request(a.base, '/login?user=ada', jar);
    const sid = sidOf(jar);
    const gate = b.t.gate('x');
    const slow = request(b.base, '/hold?gate=x&note=stale', copyJar(jar));
    await gate.arrived;
    assert.equal((await request(a.base, '/logout', jar)).status, 200);
    gate.release();
    assert.equal((await slow).status, 200);
    assert.ok((await item(sid))?.destroyed);
    assert.equal((await item(sid))?.sess, undefined);
  });
});

describe('hono-sessions on AWS Lambda (hono/aws-lambda)', () => {
  async function lambdaApp() {
    const t = await makeApp({ expireAfterSeconds: 600 });
    return { t, handler: handle(t.app) };
  }

  test('API Gateway HTTP API (payload 2.0): the cookie from `cookies` carries the session, and the write is done when the handler resolves', async () => {
    const { handler } = await lambdaApp();
    const first = await invokeHttpApi(handler, '/login', 'user=ada', []);
    const cookies = lambdaCookies(first);
    const sid = cookieValue(cookies, 'session');
    assert.match(sid, /^[0-9a-f-]{36}$/);
    assert.equal((await storedValue(sid, 'user'))?.S, 'ada', 'stored before the handler resolved');
    const next = await invokeHttpApi(handler, '/set', 'note=lambda', cookies);
    assert.equal(next.statusCode, 200);
    assert.equal(
      (await storedValue(sid, 'note'))?.S,
      'lambda',
      'read at once, consistently, on another client',
    );
    const me = await invokeHttpApi(handler, '/me', '', cookies);
    assert.deepEqual(bodyOf(me.body ?? ''), {
      user: 'ada',
      note: 'lambda',
      other: null,
      cart: { items: ['apple'], meta: { coupon: 'SAVE', gift: true } },
    });
  });

  test('Lambda Function URL: the session is carried by the cookies array, the write is done when the handler resolves', async () => {
    const { handler } = await lambdaApp();
    const first = await invokeFunctionUrl(handler, '/login', 'user=bob', []);
    const cookies = lambdaCookies(first);
    const sid = cookieValue(cookies, 'session');
    assert.equal((await storedValue(sid, 'user'))?.S, 'bob');
    await invokeFunctionUrl(handler, '/cart/push', 'item=plum', cookies);
    const items = (await storedValue(sid, 'cart'))?.M?.items?.L?.map((v) => v.S);
    assert.deepEqual(items, ['apple', 'plum']);
    const out = await invokeFunctionUrl(handler, '/logout', '', cookies);
    assert.equal(out.statusCode, 200);
    assert.ok((await item(sid))?.destroyed, 'the tombstone is written when the handler resolves');
  });

  test('API Gateway REST API (payload 1.0): the cookie comes back in multiValueHeaders', async () => {
    const { handler } = await lambdaApp();
    const first = await invokeRestApi(handler, '/login', { user: 'cy' }, []);
    const cookies = lambdaCookies(first);
    const sid = cookieValue(cookies, 'session');
    assert.equal((await storedValue(sid, 'user'))?.S, 'cy');
    const me = await invokeRestApi(handler, '/me', {}, cookies);
    assert.equal(userOf(bodyOf(me.body ?? '')), 'cy');
  });
});
