import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { after, before, describe, test } from 'node:test';
import {
  type AttributeValue,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import Koa from 'koa';
import session from 'koa-session';
import {
  type DynamoDBSessionOptions,
  DynamoDBStore,
  type DynamoDBStoreOptions,
  dynamodbSession,
  type KoaMaxAge,
  type KoaSessionData,
} from '../../adapters/koa.ts';
import { hashOfId } from '../../src/format/keys.ts';
import { InvalidOptionError } from '../../src/index.ts';
import {
  type CommandCounter,
  CookieJar,
  clientOf,
  clientWithFailingWrites,
  countCommands,
  downClient,
  freshTable,
  keyOf,
  listen,
  localClient,
  request,
  sleep,
} from './helpers.ts';

/** What a route sees as `ctx.session` (koa-session's `Session`). */
interface KoaSession {
  [key: string]: unknown;
  isNew: boolean;
  externalKey: string | undefined;
  maxAge: number | 'session';
  save(): Promise<void>;
  regenerate(): Promise<void>;
  toJSON(): Record<string, unknown>;
}

const keys = ['koa-test-key'];
const servers: Server[] = [];
let tableName = '';
const reader = await localClient();
const nowSec = () => Math.floor(Date.now() / 1000);

before(async () => {
  tableName = await freshTable(reader);
});
after(() => {
  for (const s of servers) {
    s.close();
    s.closeAllConnections();
  }
});

/** Records the `changed` flag of every `set` koa-session makes. */
class RecordingStore extends DynamoDBStore {
  readonly changed: (boolean | undefined)[] = [];
  override set(
    key: string,
    sess: KoaSessionData,
    maxAge?: KoaMaxAge,
    options?: { rolling?: boolean; changed?: boolean; ctx?: unknown },
  ): Promise<void> {
    this.changed.push(options?.changed);
    return super.set(key, sess, maxAge, options);
  }
}

interface Started {
  base: string;
  counter: CommandCounter;
  /** Errors Koa reported (`app.on('error')`). */
  errors: { code?: string; status?: number }[];
  /** How many times the route ran. */
  runs: { count: number };
}

interface StartOptions {
  engine?: DynamoDBStoreOptions;
  session?: DynamoDBSessionOptions['session'];
  client?: DynamoDBClient;
  /** Use this store with koa-session directly instead of `dynamodbSession`. */
  store?: DynamoDBStore;
}

/** Lets a test hold a request after its session was loaded. */
let slowGate: Promise<void> = Promise.resolve();
let onSlowLoaded = () => {};

function routes(runs: { count: number }): Koa.Middleware {
  return async (ctx) => {
    runs.count++;
    const s = ctx.session as KoaSession;
    const q = ctx.query;
    switch (ctx.path) {
      case '/login':
        s.user = { name: String(q.user), roles: ['reader'] };
        s.at = new Date();
        break;
      case '/me':
        break;
      case '/slow':
        onSlowLoaded();
        await slowGate;
        break;
      case '/note':
        s.note = q.note;
        break;
      case '/logout':
        ctx.session = null;
        ctx.body = { ok: true };
        return;
      case '/big':
        s.blob = 'x'.repeat(500_000);
        break;
      case '/save':
        s.note = q.note;
        await s.save();
        break;
      case '/regenerate':
        s.note = q.note;
        await s.regenerate();
        break;
      case '/max-age':
        s.maxAge = Number(q.ms);
        s.note = q.note;
        break;
      default:
        ctx.status = 404;
        return;
    }
    ctx.body = {
      user: s.user ?? null,
      note: s.note ?? null,
      isNew: s.isNew,
      fields: Object.keys(s.toJSON()).sort(),
    };
  };
}

/** A Koa 3 app on 127.0.0.1 with its own DynamoDB client, so that its commands can be counted. */
async function start(options: StartOptions = {}): Promise<Started> {
  const client = options.client ?? (await localClient());
  const counter = countCommands(client);
  const app = new Koa();
  app.keys = keys;
  app.silent = true;
  const errors: Started['errors'] = [];
  app.on('error', (err: { code?: string; status?: number }) => errors.push(err));
  if (options.store) app.use(session({ ...options.session, store: options.store }, app));
  else
    app.use(dynamodbSession(app, { client, tableName, ...options.engine, session: options.session ?? {} }));
  const runs = { count: 0 };
  app.use(routes(runs));
  const server = createServer(app.callback());
  servers.push(server);
  return { base: await listen(server), counter, errors, runs };
}

function sessionKey(jar: CookieJar): string {
  return decodeURIComponent(jar.cookies.get('koa.sess') ?? '');
}

async function item(key: string): Promise<Record<string, AttributeValue> | undefined> {
  const out = await reader.send(
    new GetItemCommand({ TableName: tableName, Key: { id: { S: keyOf(key) } }, ConsistentRead: true }),
  );
  return out.Item;
}

async function expiresOf(key: string): Promise<number> {
  return Number((await item(key))?.expires?.N);
}

function sessionCookie(res: Response): string | undefined {
  return res.headers.getSetCookie().find((c) => c.startsWith('koa.sess='));
}

async function login(base: string, jar: CookieJar, user = 'ada'): Promise<string> {
  const res = await request(base, `/login?user=${user}`, jar);
  assert.equal(res.status, 200);
  return sessionKey(jar);
}

describe('koa-session with dynamodbSession', () => {
  test('login stores the session, the next request reads it, logout destroys the item', async () => {
    const { base } = await start();
    const jar = new CookieJar();
    assert.deepEqual((await request(base, '/me', jar)).body, {
      user: null,
      note: null,
      isNew: true,
      fields: [],
    });
    assert.equal(jar.cookies.size, 0, 'an untouched new session is not stored');
    const key = await login(base, jar);
    assert.match(key, /^[0-9a-f-]{36}$/);
    const stored = await item(key);
    assert.equal(stored?.sess?.M?.user?.M?.name?.S, 'ada');
    assert.deepEqual(
      (await request(base, '/me', jar)).body,
      { user: { name: 'ada', roles: ['reader'] }, note: null, isNew: false, fields: ['at', 'user'] },
      'the next request reads the stored data',
    );
    assert.equal((await request(base, '/logout', jar)).status, 200);
    assert.equal(jar.cookies.has('koa.sess'), false, 'the cookie is cleared');
    const tomb = await item(key);
    assert.equal(tomb?.sess, undefined, 'the data is gone');
    assert.ok(tomb?.destroyed, 'a tombstone keeps in-flight requests from writing it back');
    assert.deepEqual((await request(base, '/me', jar)).body, {
      user: null,
      note: null,
      isNew: true,
      fields: [],
    });
  });

  test('a stolen cookie replayed after logout finds no session', async () => {
    const { base } = await start();
    const jar = new CookieJar();
    await login(base, jar);
    const copy = new CookieJar();
    for (const [k, v] of jar.cookies) copy.cookies.set(k, v);
    await request(base, '/logout', jar);
    const res = await request(base, '/me', copy);
    assert.deepEqual(res.body, { user: null, note: null, isNew: true, fields: [] });
  });

  test('with default options the item lives one day, stores _maxAge but never _expire', async () => {
    const { base } = await start();
    const jar = new CookieJar();
    const key = await login(base, jar);
    const stored = await item(key);
    assert.equal(stored?.sess?.M?._maxAge?.N, '86400000');
    assert.equal(stored?.sess?.M?._expire, undefined, 'the expiry lives in the item, not in the data');
    const expires = Number(stored?.expires?.N);
    assert.ok(Math.abs(expires - (nowSec() + 86_400)) <= 2, `expires ${expires}`);
    const loaded = await new DynamoDBStore({ client: reader, tableName }).get(key);
    assert.equal(loaded?._expire, expires * 1000, 'get gives koa the item expiry as _expire');
    assert.equal(loaded?._maxAge, 86_400_000);
  });

  test("maxAge 'session': a browser-session cookie, the item lives for the engine's ttl", async () => {
    const { base } = await start({ engine: { ttl: 600 }, session: { maxAge: 'session', rolling: true } });
    const jar = new CookieJar();
    const res = await request(base, '/login?user=ada', jar);
    assert.doesNotMatch(sessionCookie(res.res) ?? 'missing', /expires=/i);
    assert.ok(sessionCookie(res.res), 'the cookie is set');
    const key = sessionKey(jar);
    const stored = await item(key);
    assert.equal(stored?.sess?.M?._session?.BOOL, true);
    assert.equal(stored?.sess?.M?._maxAge, undefined);
    assert.equal(stored?.sess?.M?._expire, undefined);
    assert.ok(Math.abs(Number(stored?.expires?.N) - (nowSec() + 600)) <= 2);
    const loaded = await new DynamoDBStore({ client: reader, tableName }).get(key);
    assert.equal(loaded?._expire, undefined, 'no _expire for a browser-session cookie');
    const next = await request(base, '/me', jar);
    assert.equal((next.body as { user: { name: string } }).user.name, 'ada');
    assert.doesNotMatch(sessionCookie(next.res) ?? 'missing', /expires=/i, 'still a browser-session cookie');
  });

  test('rolling: unmodified requests inside touchAfter cost no DynamoDB write', async () => {
    const { base, counter } = await start({ session: { rolling: true } });
    const jar = new CookieJar();
    const key = await login(base, jar);
    counter.reset();
    for (let i = 0; i < 5; i++) {
      const res = await request(base, '/me', jar);
      assert.ok(sessionCookie(res.res), 'rolling refreshes the cookie');
      assert.equal((res.body as { user: { name: string } }).user.name, 'ada');
    }
    assert.equal(counter.writes(), 0, JSON.stringify(counter.counts));
    assert.equal(counter.of('GetItemCommand'), 5);
    assert.equal(sessionKey(jar), key);
  });

  test('rolling: an unmodified request that ends after a concurrent change does not write its stale copy back', async () => {
    const { base, counter } = await start({ session: { rolling: true } });
    const jar = new CookieJar();
    const key = await login(base, jar);
    let release = () => {};
    slowGate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const loaded = new Promise<void>((resolve) => {
      onSlowLoaded = resolve;
    });
    const slow = request(base, '/slow', jar);
    await loaded;
    assert.equal((await request(base, '/note?note=kept', jar)).status, 200);
    counter.reset();
    release();
    assert.equal((await slow).status, 200);
    slowGate = Promise.resolve();
    assert.equal(counter.of('PutItemCommand'), 0, 'the slow request wrote nothing back');
    assert.equal((await item(key))?.sess?.M?.note?.S, 'kept', 'the concurrent change is kept');
  });

  test('rolling with touchAfter 0: each unmodified request is one UpdateItem, never a PutItem', async () => {
    const { base, counter } = await start({ engine: { touchAfter: 0 }, session: { rolling: true } });
    const jar = new CookieJar();
    await login(base, jar);
    counter.reset();
    await request(base, '/me', jar);
    assert.deepEqual(
      {
        put: counter.of('PutItemCommand'),
        update: counter.of('UpdateItemCommand'),
        writes: counter.writes(),
      },
      { put: 0, update: 1, writes: 1 },
    );
  });

  test('rolling: after touchAfter one UpdateItem moves the expiry, and koa sees the new expiry', async () => {
    // 2 s, not 1: expiries are whole seconds, so two requests a moment apart across a second's
    // boundary are 1 s apart in expiry
    const { base, counter } = await start({ engine: { touchAfter: 2 }, session: { rolling: true } });
    const jar = new CookieJar();
    const key = await login(base, jar);
    const first = await expiresOf(key);
    counter.reset();
    await request(base, '/me', jar);
    assert.equal(counter.writes(), 0, 'inside touchAfter');
    await sleep(2_100);
    await request(base, '/me', jar);
    assert.equal(counter.of('UpdateItemCommand'), 1);
    assert.equal(counter.of('PutItemCommand'), 0);
    const moved = await expiresOf(key);
    assert.ok(moved > first, `${moved} > ${first}`);
    const loaded = await new DynamoDBStore({ client: reader, tableName }).get(key);
    assert.equal(loaded?._expire, moved * 1000);
    counter.reset();
    await request(base, '/me', jar);
    assert.equal(counter.writes(), 0, 'throttled again');
  });

  test('renew: no write while more than half of maxAge is left, then one UpdateItem keeps it alive', async () => {
    const { base, counter } = await start({
      engine: { touchAfter: 1 },
      session: { maxAge: 4_000, renew: true },
    });
    const jar = new CookieJar();
    const t0 = Date.now();
    const key = await login(base, jar);
    const first = await expiresOf(key);
    counter.reset();
    await request(base, '/me', jar);
    assert.equal(counter.writes(), 0, 'more than half left: nothing to renew');
    await sleep(3_000 - (Date.now() - t0));
    const renewed = await request(base, '/me', jar);
    assert.ok(sessionCookie(renewed.res), 'renew sends a fresh cookie');
    assert.deepEqual(
      { put: counter.of('PutItemCommand'), update: counter.of('UpdateItemCommand') },
      { put: 0, update: 1 },
    );
    assert.ok((await expiresOf(key)) > first);
    await sleep(5_100 - (Date.now() - t0)); // past the first expiry
    const res = await request(base, '/me', jar);
    assert.equal((res.body as { user: { name: string } | null }).user?.name, 'ada', 'still logged in');
  });

  test('a maxAge shorter than touchAfter: rolling activity keeps the session alive past maxAge', async () => {
    const { base, counter } = await start({ session: { maxAge: 2_000, rolling: true } });
    const jar = new CookieJar();
    const key = await login(base, jar);
    const first = await expiresOf(key);
    counter.reset();
    const t0 = Date.now();
    for (let i = 0; i < 6 && Date.now() - t0 < 10_000; i++) {
      await sleep(600);
      const res = await request(base, '/me', jar);
      assert.equal((res.body as { user: { name: string } | null }).user?.name, 'ada', `request ${i + 1}`);
    }
    assert.ok(Date.now() - t0 >= 3_600, 'active for longer than maxAge and its rounding');
    assert.equal(counter.of('PutItemCommand'), 0);
    assert.ok(counter.of('UpdateItemCommand') >= 1, 'touches were written');
    assert.ok((await expiresOf(key)) > first);
  });

  test('1,000 unmodified requests with rolling cost no DynamoDB write under default options', async () => {
    const { base, counter } = await start({ session: { rolling: true } });
    const jar = new CookieJar();
    await login(base, jar);
    counter.reset();
    const started = Date.now();
    const deadline = started + 60_000;
    let done = 0;
    for (; done < 1_000 && Date.now() < deadline; done++) {
      const res = await request(base, '/me', jar);
      if (res.status !== 200) break;
    }
    assert.equal(done, 1_000, 'every request answered in time');
    console.log(
      `koa rolling: 1000 requests, ${counter.writes()} writes, ${counter.of('GetItemCommand')} GetItem, ${Date.now() - started} ms`,
    );
    assert.equal(counter.writes(), 0);
    assert.equal(counter.of('GetItemCommand'), 1_000);
  });

  test('an item past its expiry is not served, even before TTL deletes it', async () => {
    const { base } = await start();
    const jar = new CookieJar();
    const key = await login(base, jar);
    const stored = await item(key);
    assert.ok(stored);
    await reader.send(
      new PutItemCommand({
        TableName: tableName,
        Item: { ...stored, expires: { N: String(nowSec() - 10) } },
      }),
    );
    const res = await request(base, '/me', jar);
    assert.deepEqual(res.body, { user: null, note: null, isNew: true, fields: [] });
  });

  test('a short maxAge: the session is gone once it expires', async () => {
    const { base } = await start({ session: { maxAge: 1_000 } });
    const jar = new CookieJar();
    await login(base, jar);
    assert.equal(((await request(base, '/me', jar)).body as { isNew: boolean }).isNew, false);
    await sleep(2_100);
    assert.equal(((await request(base, '/me', jar)).body as { isNew: boolean }).isNew, true);
  });

  test('externalKey replaces the cookie and still finds the session', async () => {
    const { base } = await start({
      session: {
        externalKey: {
          get: (ctx: Koa.Context) => ctx.get('x-session'),
          set: (ctx: Koa.Context, value: string) => ctx.set('x-session', value),
        },
      },
    });
    const first = await fetch(`${base}/login?user=ada`);
    const key = first.headers.get('x-session') ?? '';
    assert.equal(first.headers.getSetCookie().length, 0, 'no cookie');
    assert.ok((await item(key))?.sess);
    const me = await fetch(`${base}/me`, { headers: { 'x-session': key } });
    assert.equal(((await me.json()) as { user: { name: string } }).user.name, 'ada');
  });

  test('a custom genid gives the key that is stored and read back', async () => {
    const { base } = await start({ session: { genid: () => `user-${randomUUID()}` } });
    const jar = new CookieJar();
    const key = await login(base, jar);
    assert.match(key, /^user-/);
    assert.ok((await item(key))?.sess);
    assert.equal(((await request(base, '/me', jar)).body as { user: { name: string } }).user.name, 'ada');
  });

  test('maxAge set on the session (changed:false) persists new data and the new maxAge', async () => {
    const store = new RecordingStore({ client: await localClient(), tableName });
    const { base } = await start({ store });
    const jar = new CookieJar();
    const key = await login(base, jar);
    store.changed.length = 0;
    await request(base, '/max-age?ms=120000&note=three', jar);
    assert.deepEqual(store.changed, [false], 'koa-session called set once, with changed:false');
    const stored = await item(key);
    assert.equal(stored?.sess?.M?.note?.S, 'three');
    assert.equal(stored?.sess?.M?._maxAge?.N, '120000');
    assert.ok(Math.abs(Number(stored?.expires?.N) - (nowSec() + 120)) <= 2);
    assert.equal(((await request(base, '/me', jar)).body as { note: string }).note, 'three');
  });

  test('save() without autoCommit (changed:false) persists new data', async () => {
    const store = new RecordingStore({ client: await localClient(), tableName });
    const { base } = await start({ store, session: { autoCommit: false } });
    const jar = new CookieJar();
    await request(base, '/save?note=one', jar);
    const key = sessionKey(jar);
    assert.equal((await item(key))?.sess?.M?.note?.S, 'one');
    await request(base, '/save?note=two', jar);
    assert.deepEqual(store.changed, [false, false]);
    assert.equal((await item(key))?.sess?.M?.note?.S, 'two');
    assert.equal(((await request(base, '/me', jar)).body as { note: string }).note, 'two');
  });

  test('regenerate() moves the data to a new key with changed:false and destroys the old one', async () => {
    const store = new RecordingStore({ client: await localClient(), tableName });
    const counter = countCommands(clientOf(store.engine));
    const { base } = await start({ store });
    const jar = new CookieJar();
    const oldKey = await login(base, jar);
    store.changed.length = 0;
    counter.reset();
    await request(base, '/regenerate?note=fresh', jar);
    const newKey = sessionKey(jar);
    assert.notEqual(newKey, oldKey);
    // koa-session saves twice: changed:false inside regenerate(), then changed:true with the same data
    assert.deepEqual(store.changed, [false, true]);
    assert.equal(
      counter.of('PutItemCommand'),
      2,
      'the tombstone and the changed:false save; the repeat is free',
    );
    assert.equal((await item(newKey))?.sess?.M?.note?.S, 'fresh');
    assert.ok((await item(oldKey))?.destroyed);
    const me = (await request(base, '/me', jar)).body as { user: { name: string }; note: string };
    assert.deepEqual([me.user.name, me.note], ['ada', 'fresh']);
  });

  test('a regenerate() whose destroy of the old session fails answers 503 and moves no cookie: the old session stays', async () => {
    const { client: failing, failures } = await clientWithFailingWrites();
    const { base } = await start({ client: failing });
    const jar = new CookieJar();
    const oldKey = await login(base, jar, 'gil');
    failures.left = 1;
    const res = await request(base, '/regenerate?note=fresh', jar);
    assert.equal(failures.left, 0, 'the destroy was attempted');
    assert.equal(res.status, 503);
    assert.equal(sessionCookie(res.res), undefined, 'no cookie for another session');
    assert.equal(sessionKey(jar), oldKey);
    assert.equal((await item(oldKey))?.destroyed, undefined);
    // koa-session commits what the route changed in its finally, failed or not: the note is kept
    const me = (await request(base, '/me', jar)).body as { user: { name: string }; note: unknown };
    assert.deepEqual([me.user.name, me.note], ['gil', 'fresh']);
  });

  test('DynamoDB down while loading: 503, the route never runs, never an empty session', async () => {
    const healthy = await start();
    const jar = new CookieJar();
    await login(healthy.base, jar);
    const down = await start({ client: await downClient() });
    const res = await request(down.base, '/me', jar);
    assert.equal(res.status, 503);
    assert.equal(down.runs.count, 0);
    assert.equal(down.errors[0]?.code, 'ERR_STORE_UNAVAILABLE');
    assert.equal(
      ((await request(healthy.base, '/me', jar)).body as { user: { name: string } }).user.name,
      'ada',
    );
  });

  test('DynamoDB down while saving: the response is replaced by a 503', async () => {
    const down = await start({ client: await downClient() });
    const res = await request(down.base, '/login?user=ada', new CookieJar());
    assert.equal(res.status, 503);
    assert.equal(down.errors[0]?.code, 'ERR_STORE_UNAVAILABLE');
  });

  test('an oversized session fails with ERR_SESSION_TOO_LARGE and the stored session stays intact', async () => {
    const { base, counter, errors } = await start();
    const jar = new CookieJar();
    const key = await login(base, jar);
    const before = await item(key);
    counter.reset();
    const res = await request(base, '/big', jar);
    assert.equal(res.status, 500);
    assert.equal(errors[0]?.code, 'ERR_SESSION_TOO_LARGE');
    assert.equal(counter.writes(), 0);
    assert.deepEqual(await item(key), before);
    const me = (await request(base, '/me', jar)).body as { user: { name: string }; fields: string[] };
    assert.deepEqual([me.user.name, me.fields], ['ada', ['at', 'user']]);
  });
});

describe('dynamodbSession options', () => {
  test('a store and engine options together are refused', async () => {
    const store = new DynamoDBStore({ client: reader, tableName });
    assert.throws(
      () => dynamodbSession(new Koa(), { store, tableName: 'other' }),
      (err: unknown) =>
        err instanceof InvalidOptionError && err.option === 'store' && /tableName/.test(err.message),
    );
  });

  test("the session options object is not modified by koa-session's defaults", async () => {
    const sessionOptions = { rolling: true };
    const a = new Koa();
    a.keys = keys;
    dynamodbSession(a, { client: reader, tableName, session: sessionOptions });
    assert.deepEqual(sessionOptions, { rolling: true });
  });

  test("listUserSessions and destroyUserSessions find a user's sessions by koa key and revoke the others", async () => {
    const client = await localClient();
    const usersTable = await freshTable(client, { userIndex: true });
    const store = new DynamoDBStore({
      client,
      tableName: usersTable,
      userId: (s) => (s.user as { name?: string } | undefined)?.name,
    });
    const { base } = await start({ store });
    const [phone, laptop, other] = [new CookieJar(), new CookieJar(), new CookieJar()];
    const phoneKey = await login(base, phone, 'ada');
    const laptopKey = await login(base, laptop, 'ada');
    await login(base, other, 'bob');
    const listed = await store.listUserSessions('ada');
    assert.deepEqual(listed.map((s) => s.handle).sort(), [phoneKey, laptopKey].map(hashOfId).sort());
    assert.deepEqual(await store.destroyUserSessions('ada', { except: laptopKey }), { destroyed: 1 });
    const name = async (jar: CookieJar) =>
      ((await request(base, '/me', jar)).body as { user: { name: string } | null }).user?.name ?? null;
    assert.deepEqual([await name(phone), await name(laptop), await name(other)], [null, 'ada', 'bob']);
  });

  test('the bare store works with koa-session configured by hand', async () => {
    const store = new DynamoDBStore({ client: await localClient(), tableName });
    const { base } = await start({ store, session: { key: 'koa.sess', rolling: true } });
    const jar = new CookieJar();
    const key = await login(base, jar);
    assert.deepEqual((await store.get(key))?.user, { name: 'ada', roles: ['reader'] });
    assert.equal(((await request(base, '/me', jar)).body as { user: { name: string } }).user.name, 'ada');
  });
});
