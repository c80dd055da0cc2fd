import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import express, { type NextFunction, type Request, type Response } from 'express';
import session, { type SessionData } from 'express-session';
import { DynamoDBStore } from '../../adapters/express.ts';
import { SessionTooLargeError } from '../../src/index.ts';
import {
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
} from './helpers.ts';

declare module 'express-session' {
  interface SessionData {
    user?: { name: string };
    blob?: string;
  }
}

const client = await localClient();
const counter = countCommands(client);
let tableName = '';
const servers: Server[] = [];
const secret = 'express-test-secret';

before(async () => {
  tableName = await freshTable(client);
});
after(() => {
  for (const s of servers) s.close();
});

async function start(store: DynamoDBStore, cookie: session.CookieOptions = { maxAge: 3_600_000 }) {
  const errors: unknown[] = [];
  const app = express();
  app.use(express.json());
  app.use(session({ store, secret, resave: false, saveUninitialized: false, cookie }));
  app.post('/login', (req, res) => {
    req.session.user = { name: String(req.body.name) };
    res.json({ ok: true });
  });
  // the README's login: a new session id, the save awaited
  app.post('/signin', (req, res, next) => {
    req.session.regenerate((err) => {
      if (err) return next(err);
      req.session.user = { name: String(req.body.name) };
      req.session.save((saveErr) => (saveErr ? next(saveErr) : res.json({ ok: true })));
    });
  });
  app.get('/me', (req, res) => {
    res.json({ user: req.session.user ?? null });
  });
  app.post('/big', (req, res) => {
    req.session.blob = 'z'.repeat(450 * 1024);
    res.json({ ok: true });
  });
  app.post('/max-age', (req, res) => {
    req.session.cookie.maxAge = 7_200_000;
    res.json({ ok: true });
  });
  app.post('/logout', (req, res, next) => {
    req.session.destroy((err) => (err ? next(err) : res.json({ ok: true })));
  });
  app.use((err: { status?: number; code?: string }, _req: Request, res: Response, _next: NextFunction) => {
    errors.push(err);
    if (!res.headersSent) res.status(err.status ?? 500).json({ code: err.code });
  });
  const server = createServer(app);
  servers.push(server);
  const base = await listen(server);
  return { base, errors };
}

function sid(jar: CookieJar): string {
  const raw = decodeURIComponent(jar.cookies.get('connect.sid') ?? '');
  return raw.slice(2, raw.lastIndexOf('.'));
}

async function item(id: string) {
  const out = await client.send(
    new GetItemCommand({ TableName: tableName, Key: { id: { S: keyOf(id) } }, ConsistentRead: true }),
  );
  return out.Item;
}

describe('express-session with DynamoDBStore', () => {
  test('login stores the session, the next request sees it, logout destroys it', async () => {
    const { base } = await start(new DynamoDBStore({ client, tableName }));
    const jar = new CookieJar();
    assert.deepEqual((await request(base, '/me', jar)).body, { user: null });
    assert.equal((await request(base, '/login', jar, { method: 'POST', body: { name: 'ada' } })).status, 200);
    const id = sid(jar);
    assert.equal(id.length, 32);
    const stored = await item(id);
    assert.ok(stored?.sess?.M?.user, 'the item holds the session');
    assert.equal(
      stored?.sess?.M?.cookie?.M?.expires,
      undefined,
      'the expiry lives in the item, not in the data',
    );
    assert.deepEqual((await request(base, '/me', jar)).body, { user: { name: 'ada' } });
    assert.equal((await request(base, '/logout', jar, { method: 'POST' })).status, 200);
    assert.equal((await item(id))?.sess, undefined, 'session data is gone');
    assert.deepEqual((await request(base, '/me', jar)).body, { user: null });
  });

  test('regenerate: a first visit costs no destroy; a signed-in session is destroyed for the new id', async () => {
    const store = new DynamoDBStore({ client, tableName });
    const { base } = await start(store);
    const jar = new CookieJar();
    await request(base, '/signin', jar, { method: 'POST', body: { name: 'ada' } });
    // the session made for this visit was never stored: only the new session's PutItem
    assert.deepEqual(store.engine.stats().operations.PutItem?.calls, 1);
    assert.equal(store.engine.stats().total.calls, 1);
    const first = sid(jar);
    assert.equal((await item(first))?.sess?.M?.user?.M?.name?.S, 'ada');
    const before = copyJar(jar);
    await request(base, '/signin', jar, { method: 'POST', body: { name: 'grace' } });
    const second = sid(jar);
    assert.notEqual(second, first, 'a new id at each sign-in');
    assert.ok((await item(first))?.destroyed, 'the signed-in session it replaced is destroyed');
    assert.deepEqual((await request(base, '/me', jar)).body, { user: { name: 'grace' } });
    assert.deepEqual(
      (await request(base, '/me', before)).body,
      { user: null },
      'the old cookie opens nothing',
    );
  });

  test('an unmodified request inside touchAfter sends no write; one after it sends one UpdateItem', async () => {
    const { base } = await start(new DynamoDBStore({ client, tableName, touchAfter: 2 }));
    const jar = new CookieJar();
    await request(base, '/login', jar, { method: 'POST', body: { name: 'bob' } });
    counter.reset();
    for (let i = 0; i < 5; i++) await request(base, '/me', jar);
    assert.deepEqual(counter.counts, { GetItemCommand: 5 }, 'one read per request, no write');
    await sleep(2200);
    counter.reset();
    await request(base, '/me', jar);
    await sleep(50); // the touch is sent as the response ends
    assert.deepEqual(counter.counts, { GetItemCommand: 1, UpdateItemCommand: 1 });
  });

  for (const path of ['own client', 'client with middleware passed in'] as const) {
    test(`${path}: an unmodified request's answer goes out in one piece, not held back for the touch`, async () => {
      const where = path === 'own client' ? { clientConfig: await localConfig() } : { client };
      const store = new DynamoDBStore({ ...where, tableName });
      // express-session writes all but the last byte with res.write while a touch is pending
      const partial: number[] = [];
      const app = express();
      app.use((_req, res, next) => {
        const write = res.write;
        res.write = function (this: Response, ...args: Parameters<Response['write']>) {
          partial.push(Buffer.byteLength(args[0] as string));
          return write.apply(this, args);
        } as Response['write'];
        next();
      });
      app.use(
        session({ store, secret, resave: false, saveUninitialized: false, cookie: { maxAge: 3_600_000 } }),
      );
      app.post('/login', (req, res) => {
        req.session.user = { name: 'ann' };
        res.json({ ok: true });
      });
      app.get('/me', (req, res) => {
        res.json({ user: req.session.user ?? null });
      });
      const server = createServer(app);
      servers.push(server);
      const base = await listen(server);
      const jar = new CookieJar();
      await request(base, '/login', jar, { method: 'POST' });
      partial.length = 0;
      const res = await request(base, '/me', jar);
      assert.deepEqual(res.body, { user: { name: 'ann' } });
      assert.deepEqual(partial, [], 'no partial write before the end');
      store.close();
    });
  }

  test('changing only cookie.maxAge is written although the data is unchanged', async () => {
    const { base } = await start(new DynamoDBStore({ client, tableName }));
    const jar = new CookieJar();
    await request(base, '/login', jar, { method: 'POST', body: { name: 'cy' } });
    const before = Number((await item(sid(jar)))?.expires?.N);
    counter.reset();
    await request(base, '/max-age', jar, { method: 'POST' });
    await sleep(50);
    assert.equal(counter.of('PutItemCommand'), 1);
    const stored = await item(sid(jar));
    assert.equal(stored?.sess?.M?.cookie?.M?.originalMaxAge?.N, '7200000');
    assert.ok(Number(stored?.expires?.N) >= before + 3599, 'the item lives as long as the new cookie');
    assert.deepEqual((await request(base, '/me', jar)).body, { user: { name: 'cy' } });
  });

  test('a browser-session cookie (no maxAge) stays one, and the item gets the default ttl', async () => {
    const { base } = await start(new DynamoDBStore({ client, tableName, ttl: 600 }), {});
    const jar = new CookieJar();
    const res = await request(base, '/login', jar, { method: 'POST', body: { name: 'di' } });
    assert.doesNotMatch(res.res.headers.get('set-cookie') ?? '', /Expires=/i);
    const expires = Number((await item(sid(jar)))?.expires?.N);
    assert.ok(Math.abs(expires - (Math.floor(Date.now() / 1000) + 600)) <= 2);
    assert.deepEqual((await request(base, '/me', jar)).body, { user: { name: 'di' } });
  });

  test('an unmodified request that ends after a concurrent change does not write its stale copy back', async () => {
    const store = new DynamoDBStore({ client, tableName });
    let release = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let loadedSlow = () => {};
    const slowLoaded = new Promise<void>((resolve) => {
      loadedSlow = resolve;
    });
    const app = express();
    app.use(express.json());
    app.use(
      session({ store, secret, resave: false, saveUninitialized: false, cookie: { maxAge: 3_600_000 } }),
    );
    app.post('/login', (req, res) => {
      req.session.user = { name: 'gil' };
      res.json({ ok: true });
    });
    app.get('/slow', async (req, res) => {
      loadedSlow();
      await gate;
      res.json({ user: req.session.user ?? null });
    });
    app.get('/me', (req, res) => {
      res.json({ user: req.session.user ?? null });
    });
    app.post('/rename', (req, res) => {
      req.session.user = { name: 'gil2' };
      req.session.save(() => res.json({ ok: true }));
    });
    const server = createServer(app);
    servers.push(server);
    const base = await listen(server);
    const jar = new CookieJar();
    await request(base, '/login', jar, { method: 'POST' });
    const slow = request(base, '/slow', jar);
    await slowLoaded;
    await request(base, '/rename', jar, { method: 'POST' });
    counter.reset();
    release();
    await slow;
    await sleep(50); // the touch is sent as the response ends
    assert.equal(counter.of('PutItemCommand'), 0, 'the slow request wrote nothing back');
    assert.deepEqual((await request(base, '/me', jar)).body, { user: { name: 'gil2' } });
  });

  /** A logged-in session as express-session makes it live for a request: loaded by the store, then created. */
  async function liveSession(store: DynamoDBStore, name: string) {
    const { base } = await start(store);
    const jar = new CookieJar();
    await request(base, '/login', jar, { method: 'POST', body: { name } });
    const id = sid(jar);
    const loaded = await new Promise<SessionData | null | undefined>((resolve, reject) =>
      store.get(id, (err, sess) => (err ? reject(err) : resolve(sess))),
    );
    assert.ok(loaded);
    return { id, live: store.createSession({ sessionID: id } as unknown as Request, loaded) };
  }

  for (const drift of [1, 700, 4000]) {
    test(`express-session's drift of originalMaxAge (${drift} ms) is no change: no write`, async () => {
      const store = new DynamoDBStore({ client, tableName });
      const { id, live } = await liveSession(store, 'hal');
      // what Cookie#maxAge does when the clock moves between its two reads (a tick, or a process paused)
      live.cookie.originalMaxAge = (live.cookie.originalMaxAge ?? 0) - drift;
      counter.reset();
      await new Promise<void>((resolve, reject) =>
        store.touch(id, live, (err) => (err ? reject(err) : resolve())),
      );
      assert.equal(counter.writes(), 0);
    });
  }

  test('a real change of maxAge (10 s) is stored', async () => {
    const store = new DynamoDBStore({ client, tableName });
    const { id, live } = await liveSession(store, 'ivy');
    live.cookie.maxAge = 3_600_000 - 10_000;
    counter.reset();
    await new Promise<void>((resolve, reject) =>
      store.set(id, live, (err) => (err ? reject(err) : resolve())),
    );
    assert.equal(counter.writes(), 1);
  });

  test('a DynamoDB outage answers 5xx, not a new empty session', async () => {
    const up = await start(new DynamoDBStore({ client, tableName }));
    const down = await start(new DynamoDBStore({ client: await downClient(), tableName }));
    const jar = new CookieJar();
    await request(up.base, '/login', jar, { method: 'POST', body: { name: 'eve' } });
    const res = await request(down.base, '/me', jar);
    assert.equal(res.status, 503);
    assert.deepEqual(res.body, { code: 'ERR_STORE_UNAVAILABLE' });
    assert.equal(res.res.headers.get('set-cookie'), null, 'no new session cookie');
  });

  test('a login whose destroy of the old session fails answers 503 and sets no cookie: the old session stays', async () => {
    const { client: failing, failures } = await clientWithFailingWrites(/^PutItemCommand$/);
    const { base } = await start(new DynamoDBStore({ client: failing, tableName }));
    const jar = new CookieJar();
    await request(base, '/login', jar, { method: 'POST', body: { name: 'gil' } });
    const before = sid(jar);
    failures.left = Number.POSITIVE_INFINITY;
    const res = await request(base, '/signin', jar, { method: 'POST', body: { name: 'hal' } });
    failures.left = 0;
    assert.equal(res.status, 503);
    assert.equal(res.res.headers.get('set-cookie'), null, 'no cookie for a session that was not saved');
    assert.equal(sid(jar), before);
    assert.deepEqual((await request(base, '/me', jar)).body, { user: { name: 'gil' } });
  });

  test('an oversized save reaches the error handler as a typed error and the stored session stays', async () => {
    const { base, errors } = await start(new DynamoDBStore({ client, tableName }));
    const jar = new CookieJar();
    await request(base, '/login', jar, { method: 'POST', body: { name: 'fay' } });
    await request(base, '/big', jar, { method: 'POST' });
    for (let i = 0; i < 50 && errors.length === 0; i++) await sleep(20);
    assert.equal(errors.length, 1);
    assert.ok(errors[0] instanceof SessionTooLargeError);
    assert.deepEqual((await request(base, '/me', jar)).body, { user: { name: 'fay' } });
  });
});
