/**
 * createDynamoDBSessionStorage in a React Router app answered by React Router's own request handler
 * over HTTP (test/integration/react-router-app.ts), on React Router 8, and on 7 when run with
 * `--import ./test/react-router-7.ts` (test/run.ts runs it on both).
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { DescribeTableCommand, type DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { type Cookie, type CookieOptions, createCookie } from 'react-router';
import {
  createDynamoDBSessionStorage,
  type DynamoDBSessionStorage,
  type DynamoDBSessionStorageOptions,
} from '../../adapters/react-router.ts';
import { freePort } from '../../dev/dynamodb-local.ts';
import {
  type CommandCounter,
  CookieJar,
  clientWithFailingWrites,
  cookieExpiresAt,
  copyJar,
  countCommands,
  downClient,
  freshTable,
  keyOf,
  localClient,
  localConfig,
  sleep,
} from './helpers.ts';
import { Gate, nowSec, RawTable } from './protocol-apps.ts';
import { closeApps, idIn, type RouterApp, send, startApp } from './react-router-app.ts';
import { expectedReactRouterMajor, loadedReactRouterVersion } from './react-router-version.ts';

const version = loadedReactRouterVersion();
const reader = await localClient();
const tableName = await freshTable(reader);
const table = new RawTable(reader, tableName);
const storages: DynamoDBSessionStorage[] = [];
const secret = 'a react-router test secret';
const NAME = '__session';

after(() => {
  closeApps();
  for (const storage of storages) storage.close();
});

/** The session cookie of the apps (signed unless said), `options` over its defaults. */
function sessionCookie(options: CookieOptions = {}): Cookie {
  return createCookie(NAME, { path: '/', httpOnly: true, sameSite: 'lax', secrets: [secret], ...options });
}

interface StartOptions {
  cookie?: Cookie;
  /** A client to pass in; else a new client for DynamoDB Local. */
  client?: DynamoDBClient;
  /** Given, the storage makes its own client with this configuration instead. */
  own?: Awaited<ReturnType<typeof localConfig>>;
  engine?: Omit<DynamoDBSessionStorageOptions, 'cookie' | 'client' | 'clientConfig' | 'tableName'>;
}

interface Started extends RouterApp {
  storage: DynamoDBSessionStorage;
  cookie: Cookie;
  /** The DynamoDB calls of the storage: `countCommands` on a client passed in, else its `stats()`. */
  counter: Pick<CommandCounter, 'of' | 'writes' | 'reset'>;
}

/** A stats()-based counter with countCommands' names, for a storage's own client (left on its direct path). */
function statsCounter(storage: DynamoDBSessionStorage): Started['counter'] {
  const calls = (op: string) => storage.engine.stats().operations[op]?.calls ?? 0;
  const ops = ['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem'];
  let base = new Map<string, number>();
  const counter = {
    reset: () => {
      base = new Map(ops.map((op) => [op, calls(op)]));
    },
    of: (...names: string[]) =>
      names.reduce((sum, name) => {
        const op = name.replace(/Command$/, '');
        return sum + calls(op) - (base.get(op) ?? 0);
      }, 0),
    writes: () => counter.of('PutItemCommand', 'UpdateItemCommand', 'DeleteItemCommand'),
  };
  counter.reset();
  return counter;
}

async function start(options: StartOptions = {}): Promise<Started> {
  const cookie = options.cookie ?? sessionCookie();
  const { own } = options;
  const client = own ? undefined : (options.client ?? (await localClient()));
  const storage = createDynamoDBSessionStorage({
    cookie,
    tableName,
    ...(own && { clientConfig: own }),
    ...(client && { client }),
    ...options.engine,
  });
  storages.push(storage);
  const counter = client ? countCommands(client) : statsCounter(storage);
  return { ...(await startApp(storage)), storage, cookie, counter };
}

/** The session id the jar's cookie holds; `null` when none. */
function idOf(app: Started, jar: CookieJar): Promise<string | null> {
  return idIn(app.cookie, jar.header());
}

async function login(app: Started, jar: CookieJar, user = 'ada', query = ''): Promise<string> {
  const res = await send(app.base, `/login?user=${user}${query}`, jar, 'POST');
  assert.equal(res.status, 200, JSON.stringify(res.body));
  const id = await idOf(app, jar);
  assert.ok(id, 'the login sets the session cookie');
  return id;
}

/** What `/me` (and every JSON route) answers. */
interface Me {
  id: string;
  data: Record<string, unknown>;
}

async function me(app: Started, jar: CookieJar): Promise<Me> {
  const res = await send(app.base, '/me', jar);
  assert.equal(res.status, 200);
  return res.body as Me;
}

/** Whether a response's Set-Cookie clears the session cookie (an expiry in the past). */
function clears(res: Response): boolean {
  const at = cookieExpiresAt(res, NAME);
  return typeof at === 'number' && at < Date.now();
}

/** Puts a cookie into the jar as a browser would store it from `setCookie`. */
function putCookie(jar: CookieJar, setCookie: string): void {
  jar.store(new Response(null, { headers: { 'Set-Cookie': setCookie } }));
}

const near = (actual: number, expected: number, what: string) =>
  assert.ok(Math.abs(actual - expected) <= 2, `${what}: ${actual}, expected about ${expected}`);

describe(`React Router ${version}: createDynamoDBSessionStorage through createRequestHandler`, () => {
  test('the process runs on the React Router it was started for', () => {
    console.log(`react-router ${version}, Node.js ${process.version}`);
    assert.equal(Number(version.split('.')[0]), expectedReactRouterMajor());
  });

  for (const kind of ['a client passed in', 'a client of its own'] as const) {
    const startCore = async (options: StartOptions = {}) =>
      start(kind === 'a client of its own' ? { ...options, own: await localConfig() } : options);

    describe(`with ${kind}`, () => {
      test('a login is stored, and the next document, data and resource requests read it', async () => {
        const app = await startCore();
        const jar = new CookieJar();
        const id = await login(app, jar);
        assert.equal(await table.stored(id, 'user'), 'ada');
        assert.deepEqual(await me(app, jar), { id, data: { user: 'ada', cart: { items: [] } } });
        const dataRequest = await send(app.base, '/me.data', jar);
        assert.equal(dataRequest.status, 200);
        assert.match(JSON.stringify(dataRequest.body), /ada/);
        const resource = await send(app.base, '/api/me', jar);
        assert.deepEqual(resource.body, { id, data: { user: 'ada', cart: { items: [] } } });
      });

      test('a stored session costs one GetItem per request', async () => {
        const app = await startCore();
        const jar = new CookieJar();
        await login(app, jar);
        app.counter.reset();
        for (let i = 0; i < 5; i++) await me(app, jar);
        assert.equal(app.counter.of('GetItemCommand'), 5);
      });

      test('a loader committing an unchanged session on every response writes nothing within touchAfter', async () => {
        const app = await startCore();
        const jar = new CookieJar();
        const id = await login(app, jar);
        app.counter.reset();
        for (let i = 0; i < 5; i++) {
          const res = await send(app.base, '/me', jar);
          assert.ok(res.res.headers.getSetCookie().length, 'each response sets the cookie');
        }
        assert.equal(app.counter.writes(), 0);
        assert.equal(await idOf(app, jar), id);
      });

      test('logout leaves a tombstone and clears the cookie; the old cookie opens nothing', async () => {
        const app = await startCore();
        const jar = new CookieJar();
        const id = await login(app, jar);
        const stolen = copyJar(jar);
        const res = await send(app.base, '/logout', jar, 'POST');
        assert.equal(res.status, 302);
        assert.ok(clears(res.res), 'the redirect clears the cookie');
        assert.equal(jar.cookies.has(NAME), false);
        const tomb = await table.item(id);
        assert.ok(tomb?.destroyed, 'a tombstone');
        assert.equal(tomb?.sess, undefined, 'no data');
        assert.deepEqual(await me(app, stolen), { id: '', data: {} });
      });

      test('DynamoDB down: a document request answers 503, handleError gets ERR_STORE_UNAVAILABLE, no loader sees an empty session', async () => {
        const healthy = await startCore();
        const jar = new CookieJar();
        await login(healthy, jar);
        const downConfig = await localConfig({
          endpoint: `http://127.0.0.1:${await freePort()}`,
          maxAttempts: 1,
        });
        const down =
          kind === 'a client of its own'
            ? await start({ own: downConfig })
            : await start({ client: await downClient() });
        const res = await send(down.base, '/me', jar);
        assert.equal(res.status, 503);
        assert.equal((down.errors[0] as { code?: string } | undefined)?.code, 'ERR_STORE_UNAVAILABLE');
        assert.deepEqual(down.seen, [], 'no loader got a session');
        assert.equal(jar.cookies.has(NAME), true, 'the cookie is kept');
        assert.equal((await me(healthy, jar)).data.user, 'ada', 'the session is still there');
      });
    });
  }

  describe('reads', () => {
    test('reads are eventually consistent: no GetItem asks for ConsistentRead', async () => {
      const client = await localClient();
      const consistent: unknown[] = [];
      client.middlewareStack.add(
        (next, context) => (args) => {
          if (context.commandName === 'GetItemCommand')
            consistent.push((args.input as { ConsistentRead?: boolean }).ConsistentRead);
          return next(args);
        },
        { step: 'initialize' },
      );
      const app = await start({ client });
      const jar = new CookieJar();
      await login(app, jar);
      consistent.length = 0;
      for (let i = 0; i < 3; i++) await me(app, jar);
      assert.equal(consistent.length, 3);
      assert.ok(
        consistent.every((c) => c !== true),
        JSON.stringify(consistent),
      );
    });
  });

  describe('lifetimes', () => {
    test("the cookie's maxAge is the item's expiry", async () => {
      const app = await start({ cookie: sessionCookie({ maxAge: 600 }) });
      const id = await login(app, new CookieJar());
      near(Number(await table.expiry(id)), nowSec() + 600, 'expires');
    });

    test("a commit's maxAge wins over the cookie's, for the item and the cookie", async () => {
      const app = await start({ cookie: sessionCookie({ maxAge: 600 }) });
      const jar = new CookieJar();
      const res = await send(app.base, '/login?user=ada&maxAge=7200', jar, 'POST');
      const id = await idOf(app, jar);
      assert.ok(id);
      near(Number(await table.expiry(id)), nowSec() + 7200, 'expires');
      near(Math.round(Number(cookieExpiresAt(res.res, NAME)) / 1000), nowSec() + 7200, 'the cookie');
    });

    test("a commit's expires is the item's expiry", async () => {
      const app = await start({ cookie: sessionCookie() });
      const jar = new CookieJar();
      const expires = Date.now() + 5_000_000;
      await send(app.base, `/login?user=ada&expires=${expires}`, jar, 'POST');
      const id = await idOf(app, jar);
      assert.ok(id);
      assert.equal(await table.expiry(id), Math.ceil(expires / 1000));
    });

    test("a cookie with neither maxAge nor expires: a browser-session cookie, the item lives for the store's ttl", async () => {
      const app = await start({ cookie: sessionCookie(), engine: { ttl: 900 } });
      const jar = new CookieJar();
      const res = await send(app.base, '/login?user=ada', jar, 'POST');
      assert.equal(cookieExpiresAt(res.res, NAME), null, 'no Max-Age, no Expires');
      const id = await idOf(app, jar);
      assert.ok(id);
      near(Number(await table.expiry(id)), nowSec() + 900, 'expires');
    });

    test('once touchAfter has passed, an unchanged commit moves the expiry with one UpdateItem', async () => {
      // 2 s, not 1: expiries are whole seconds
      const app = await start({ engine: { touchAfter: 2 } });
      const jar = new CookieJar();
      const id = await login(app, jar);
      const first = Number(await table.expiry(id));
      app.counter.reset();
      await me(app, jar);
      assert.equal(app.counter.writes(), 0, 'inside touchAfter');
      await sleep(2_100);
      await me(app, jar);
      assert.deepEqual(
        { put: app.counter.of('PutItemCommand'), update: app.counter.of('UpdateItemCommand') },
        { put: 0, update: 1 },
      );
      assert.ok(Number(await table.expiry(id)) > first);
    });
  });

  describe('changes', () => {
    test('a change made in place inside a loaded object (cart.items.push) is stored', async () => {
      const app = await start();
      const jar = new CookieJar();
      const id = await login(app, jar);
      assert.equal((await send(app.base, '/cart?item=book', jar, 'POST')).status, 200);
      assert.equal((await table.item(id))?.sess?.M?.cart?.M?.items?.L?.[0]?.S, 'book');
      assert.deepEqual((await me(app, jar)).data.cart, { items: ['book'] });
    });

    test('a flash message is read once, and is gone from the item once read', async () => {
      const app = await start();
      const jar = new CookieJar();
      const id = await login(app, jar);
      await send(app.base, '/flash?message=saved', jar, 'POST');
      assert.deepEqual(await table.dataKeys(id), ['__flash_notice__', 'cart', 'user'], 'stored until read');
      const first = await send(app.base, '/notice', jar);
      assert.equal((first.body as { notice: unknown }).notice, 'saved');
      const again = await send(app.base, '/notice', jar);
      assert.equal((again.body as { notice: unknown }).notice, null);
      assert.deepEqual(await table.dataKeys(id), ['cart', 'user']);
    });

    test('two servers changing different keys of one session at once: both changes are kept', async () => {
      const [a, b] = [await start(), await start()];
      const jar = new CookieJar();
      const id = await login(a, jar);
      const gate = new Gate();
      const slow = send(a.base, `/set?key=fromA&value=1&gate=${gate.name}`, copyJar(jar), 'POST');
      await gate.arrived();
      assert.equal((await send(b.base, '/set?key=fromB&value=2', jar, 'POST')).status, 200);
      gate.release();
      assert.equal((await slow).status, 200);
      assert.deepEqual(await table.dataKeys(id), ['cart', 'fromA', 'fromB', 'user']);
    });

    test('two servers changing the same key: the later write wins', async () => {
      const [a, b] = [await start(), await start()];
      const jar = new CookieJar();
      const id = await login(a, jar);
      const gate = new Gate();
      const slow = send(a.base, `/set?key=color&value=later&gate=${gate.name}`, copyJar(jar), 'POST');
      await gate.arrived();
      await send(b.base, '/set?key=color&value=earlier', jar, 'POST');
      assert.equal(await table.stored(id, 'color'), 'earlier');
      gate.release();
      assert.equal((await slow).status, 200);
      assert.equal(await table.stored(id, 'color'), 'later');
    });
  });

  describe('logout is final', () => {
    test('a request in flight that loaded before the logout commits after it: nothing comes back, its cookie is cleared', async () => {
      const app = await start();
      const jar = new CookieJar();
      const id = await login(app, jar);
      const tab = copyJar(jar);
      const gate = new Gate();
      const slow = send(app.base, `/set?key=late&value=1&gate=${gate.name}`, tab, 'POST');
      await gate.arrived();
      assert.equal((await send(app.base, '/logout', jar, 'POST')).status, 302);
      const skipped = app.storage.engine.stats().skipped;
      gate.release();
      const res = await slow;
      assert.equal(res.status, 200);
      assert.ok(clears(res.res), 'the late commit clears the cookie');
      assert.equal(tab.cookies.has(NAME), false);
      const item = await table.item(id);
      assert.ok(item?.destroyed, 'still a tombstone');
      assert.equal(item?.sess, undefined);
      assert.equal(app.storage.engine.stats().skipped, skipped + 1, 'the write was refused, not an error');
    });

    test('an unchanged request in flight whose expiry-only write comes after the logout: nothing comes back, its cookie is cleared', async () => {
      const app = await start({ engine: { touchAfter: 0 } });
      const jar = new CookieJar();
      const id = await login(app, jar);
      const tab = copyJar(jar);
      const gate = new Gate();
      const slow = send(app.base, `/me?gate=${gate.name}`, tab);
      await gate.arrived();
      await send(app.base, '/logout', jar, 'POST');
      app.counter.reset();
      gate.release();
      const res = await slow;
      assert.equal(res.status, 200);
      assert.equal(app.counter.of('UpdateItemCommand'), 1, 'the expiry-only write was tried');
      assert.ok(clears(res.res), 'the late commit clears the cookie');
      const item = await table.item(id);
      assert.ok(item?.destroyed, 'still a tombstone');
      assert.equal(item?.sess, undefined);
    });

    test('an unchanged request whose expiry-only write finds a newer version keeps its cookie: the session is alive', async () => {
      const [a, b] = [await start({ engine: { touchAfter: 0 } }), await start()];
      const jar = new CookieJar();
      const id = await login(a, jar);
      const gate = new Gate();
      const slow = send(a.base, `/me?gate=${gate.name}`, copyJar(jar));
      await gate.arrived();
      await send(b.base, '/set?key=fromB&value=1', jar, 'POST');
      const skipped = a.storage.engine.stats().skipped;
      gate.release();
      const res = await slow;
      assert.equal(res.status, 200);
      assert.equal(a.storage.engine.stats().skipped, skipped + 1, 'its stale expiry was not written');
      assert.equal(clears(res.res), false, 'the cookie is not cleared');
      assert.equal(await idIn(a.cookie, res.res.headers.getSetCookie().join('; ')), id);
      assert.equal(await table.stored(id, 'fromB'), '1');
    });

    test('a commit after destroySession of the same session writes nothing and clears the cookie', async () => {
      const app = await start();
      const jar = new CookieJar();
      const id = await login(app, jar);
      app.counter.reset();
      const res = await send(app.base, '/destroy-then-commit', jar, 'POST');
      assert.equal(res.status, 200);
      assert.equal(app.counter.writes(), 1, 'the tombstone only');
      assert.ok(clears(res.res));
      assert.equal(jar.cookies.has(NAME), false);
      const item = await table.item(id);
      assert.ok(item?.destroyed);
      assert.equal(item?.sess, undefined);
    });
  });

  describe('ids', () => {
    test('the table key is a hash of the id, never the id itself', async () => {
      const app = await start();
      const id = await login(app, new CookieJar());
      assert.ok(await table.item(id), 'the item is under the hashed key');
      assert.equal(keyOf(id).includes(id), false);
      for (const key of [id, `session#${id}`]) {
        const out = await reader.send(new GetItemCommand({ TableName: tableName, Key: { id: { S: key } } }));
        assert.equal(out.Item, undefined, key);
      }
    });

    test('ids are 43 base64url characters (256 bits), and every new session gets its own', async () => {
      const app = await start();
      const ids = await Promise.all(Array.from({ length: 8 }, () => login(app, new CookieJar())));
      for (const id of ids) assert.match(id, /^[A-Za-z0-9_-]{43}$/);
      assert.equal(new Set(ids).size, ids.length);
    });

    test('a cookie naming a session never stored gives a new session, and its commit a new id', async () => {
      const app = await start();
      const jar = new CookieJar();
      const forged = 'A'.repeat(43);
      putCookie(jar, await app.cookie.serialize(forged));
      assert.deepEqual(await me(app, jar), { id: '', data: {} });
      await send(app.base, '/set?key=a&value=1', jar, 'POST');
      const id = await idOf(app, jar);
      assert.ok(id);
      assert.notEqual(id, forged);
      assert.equal(await table.item(forged), undefined, 'nothing under the id the cookie named');
    });

    test('a cookie naming a destroyed session gives a new session with a new id: the old one stays destroyed', async () => {
      const app = await start();
      const jar = new CookieJar();
      const old = await login(app, jar);
      const stolen = copyJar(jar);
      await send(app.base, '/logout', jar, 'POST');
      await send(app.base, '/set?key=a&value=1', stolen, 'POST');
      const id = await idOf(app, stolen);
      assert.ok(id);
      assert.notEqual(id, old);
      assert.deepEqual(await table.dataKeys(id), ['a']);
      assert.ok((await table.item(old))?.destroyed);
    });

    test('a cookie naming an expired session still in the table gives a new session with a new id', async () => {
      const app = await start();
      const jar = new CookieJar();
      const old = await login(app, jar);
      const expired = nowSec() - 10;
      await table.setExpiry(old, expired);
      assert.deepEqual(await me(app, jar), { id: '', data: {} });
      await send(app.base, '/set?key=a&value=1', jar, 'POST');
      const id = await idOf(app, jar);
      assert.ok(id);
      assert.notEqual(id, old);
      assert.deepEqual(await table.dataKeys(old), ['cart', 'user'], 'the expired session is not revived');
      assert.equal(await table.expiry(old), expired);
    });

    test('a signed cookie whose value was tampered with gives a new session; the session it named is untouched', async () => {
      const app = await start();
      const jar = new CookieJar();
      const old = await login(app, jar);
      const value = jar.cookies.get(NAME) ?? '';
      // the signed text changed (the signature's last character may carry unused bits)
      const tampered = (value.startsWith('e') ? 'f' : 'e') + value.slice(1);
      jar.cookies.set(NAME, tampered);
      assert.deepEqual(await me(app, jar), { id: '', data: {} });
      await send(app.base, '/set?key=a&value=1', jar, 'POST');
      const id = await idOf(app, jar);
      assert.ok(id);
      assert.notEqual(id, old);
      assert.equal(await table.stored(old, 'user'), 'ada');
    });
  });

  describe('new sessions and double commits', () => {
    test('a new session with no data is not stored, and its commit clears the cookie', async () => {
      const app = await start();
      const jar = new CookieJar();
      app.counter.reset();
      const res = await send(app.base, '/me', jar);
      assert.equal(res.status, 200);
      assert.equal(app.counter.writes(), 0);
      assert.ok(clears(res.res), 'the Set-Cookie clears');
      assert.equal(jar.cookies.has(NAME), false);
    });

    test('a new session committed twice by one request is one session under one id, holding both changes', async () => {
      const app = await start();
      const jar = new CookieJar();
      const res = await send(app.base, '/twice?first=1&second=2', jar, 'POST');
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const [first = '', second = ''] = (res.body as { cookies: string[] }).cookies;
      const id = await idIn(app.cookie, first);
      assert.ok(id);
      assert.equal(await idIn(app.cookie, second), id);
      assert.deepEqual(await table.dataKeys(id), ['first', 'second']);
      assert.deepEqual(app.errors, []);
    });

    test('a loaded session committed twice by one request keeps its id and both changes', async () => {
      const app = await start();
      const jar = new CookieJar();
      const id = await login(app, jar);
      const res = await send(app.base, '/twice?first=1&second=2', jar, 'POST');
      assert.equal(res.status, 200);
      const cookies = (res.body as { cookies: string[] }).cookies;
      assert.deepEqual(await Promise.all(cookies.map((c) => idIn(app.cookie, c))), [id, id]);
      assert.deepEqual(await table.dataKeys(id), ['cart', 'first', 'second', 'user']);
    });
  });

  describe('errors', () => {
    test('DynamoDB down: a data request (.data) answers 503, and handleError gets ERR_STORE_UNAVAILABLE', async () => {
      const healthy = await start();
      const jar = new CookieJar();
      await login(healthy, jar);
      const down = await start({ client: await downClient() });
      const res = await send(down.base, '/me.data', jar);
      assert.equal(res.status, 503);
      assert.equal((down.errors[0] as { code?: string } | undefined)?.code, 'ERR_STORE_UNAVAILABLE');
      assert.deepEqual(down.seen, []);
    });

    test('DynamoDB down: a resource route answers 503, and handleError gets ERR_STORE_UNAVAILABLE', async () => {
      const healthy = await start();
      const jar = new CookieJar();
      await login(healthy, jar);
      const down = await start({ client: await downClient() });
      const res = await send(down.base, '/api/me', jar);
      assert.equal(res.status, 503);
      assert.equal((down.errors[0] as { code?: string } | undefined)?.code, 'ERR_STORE_UNAVAILABLE');
      assert.deepEqual(down.seen, []);
    });

    test('a failing write answers 503, handleError gets ERR_STORE_UNAVAILABLE, and the stored session is unchanged', async () => {
      const { client, failures } = await clientWithFailingWrites();
      const app = await start({ client });
      const jar = new CookieJar();
      const id = await login(app, jar);
      failures.left = Number.POSITIVE_INFINITY;
      const res = await send(app.base, '/set?key=a&value=1', jar, 'POST');
      failures.left = 0;
      assert.equal(res.status, 503);
      assert.equal((app.errors[0] as { code?: string } | undefined)?.code, 'ERR_STORE_UNAVAILABLE');
      assert.deepEqual(await table.dataKeys(id), ['cart', 'user']);
    });
  });

  test('close() leaves a client passed in open', async () => {
    const client = await localClient();
    createDynamoDBSessionStorage({ client, tableName }).close();
    const out = await client.send(new DescribeTableCommand({ TableName: tableName }));
    assert.equal(out.Table?.TableName, tableName);
  });
});
