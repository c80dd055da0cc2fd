/**
 * One request that saves its session twice (an explicit save not waited for, then a change, then the
 * framework's own save), in the real frameworks over HTTP, on a new session and on a loaded one; and
 * express-session's `touch` called with a session object the store never returned.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { DeleteItemCommand, GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import express, { type NextFunction, type Request, type Response } from 'express';
import session from 'express-session';
import Fastify from 'fastify';
import Koa from 'koa';
import { DynamoDBStore as ExpressStore } from '../../adapters/express.ts';
import { dynamodbSessions } from '../../adapters/fastify.ts';
import { dynamodbSession } from '../../adapters/koa.ts';
import { CookieJar, freshTable, keyOf, listen, localClient, request } from './helpers.ts';

const client = await localClient();
let tableName = '';
const secret = 'a save-twice test secret of at least thirty-two characters';
const servers: Server[] = [];
const closers: (() => Promise<unknown>)[] = [];

before(async () => {
  tableName = await freshTable(client);
});
after(async () => {
  for (const s of servers) s.close();
  for (const close of closers) await close();
});

type Data = Record<string, unknown>;

/** Each framework's app: `/twice?name=` saves without waiting, changes more, then ends; `/me` answers the data. */
const apps: Record<string, () => Promise<string>> = {
  async express() {
    const app = express();
    app.use(
      session({
        store: new ExpressStore({ client, tableName }),
        secret,
        resave: false,
        saveUninitialized: false,
        cookie: { maxAge: 3_600_000 },
      }),
    );
    app.post('/twice', (req, res) => {
      const s = req.session as unknown as Data;
      s.user = req.query.name;
      req.session.save(); // not waited for, as apps do
      s.cart = [req.query.name];
      res.json({ ok: true });
    });
    app.get('/me', (req, res) => {
      const { cookie: _cookie, ...data } = req.session as unknown as Data;
      res.json(data);
    });
    app.use((err: { code?: string }, _req: Request, res: Response, _next: NextFunction) => {
      if (!res.headersSent) res.status(500).json({ code: err.code });
    });
    const server = createServer(app);
    servers.push(server);
    return listen(server);
  },
  async fastify() {
    const app = Fastify();
    await app.register(dynamodbSessions, {
      secret,
      client,
      tableName,
      cookie: { secure: false, maxAge: 3_600_000 },
      saveUninitialized: false,
    });
    app.post('/twice', async (req) => {
      const s = req.session as unknown as Data;
      s.user = (req.query as Data).name;
      void req.session.save(); // not waited for
      s.cart = [(req.query as Data).name];
      return { ok: true };
    });
    app.get('/me', async (req) => {
      const { cookie: _cookie, ...data } = req.session as unknown as Data;
      return data;
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    closers.push(() => app.close());
    const address = app.server.address();
    assert.ok(address && typeof address === 'object');
    return `http://127.0.0.1:${address.port}`;
  },
  async koa() {
    const app = new Koa();
    app.keys = [secret];
    app.use(dynamodbSession(app, { client, tableName, session: { maxAge: 3_600_000 } }));
    app.use(async (ctx) => {
      const s = ctx.session as unknown as Data;
      if (ctx.path === '/twice') {
        s.user = ctx.query.name;
        void ctx.session?.manuallyCommit(); // not waited for
        s.cart = [ctx.query.name];
        ctx.body = { ok: true };
      } else {
        ctx.body = { user: s.user, cart: s.cart };
      }
    });
    const server = createServer(app.callback());
    servers.push(server);
    return listen(server);
  },
};

for (const [framework, start] of Object.entries(apps)) {
  describe(`${framework}: a request that saves its session twice`, () => {
    test('a new session: both saves are stored, no error', async () => {
      const base = await start();
      const jar = new CookieJar();
      const first = await request(base, '/twice?name=ada', jar, { method: 'POST' });
      assert.equal(first.status, 200);
      const me = await request(base, '/me', jar);
      assert.equal(me.status, 200);
      assert.deepEqual(
        { user: (me.body as Data).user, cart: (me.body as Data).cart },
        { user: 'ada', cart: ['ada'] },
      );
    });

    test('a loaded session: both saves are stored, the second over the first', async () => {
      const base = await start();
      const jar = new CookieJar();
      await request(base, '/twice?name=ada', jar, { method: 'POST' });
      const again = await request(base, '/twice?name=bob', jar, { method: 'POST' });
      assert.equal(again.status, 200);
      const me = await request(base, '/me', jar);
      assert.deepEqual(
        { user: (me.body as Data).user, cart: (me.body as Data).cart },
        { user: 'bob', cart: ['bob'] },
      );
    });
  });
}

describe('express-session touch with a session object the store did not load', () => {
  let store: ExpressStore;
  before(() => {
    store = new ExpressStore({ client, tableName, touchAfter: 0 });
  });
  const touch = (sid: string, expires: Date) =>
    new Promise<void>((resolve, reject) =>
      store.touch(sid, { cookie: { originalMaxAge: 3_600_000, expires } } as session.SessionData, (err) =>
        err ? reject(err) : resolve(),
      ),
    );
  const raw = async (sid: string) =>
    (
      await client.send(
        new GetItemCommand({ TableName: tableName, Key: { id: { S: keyOf(sid) } }, ConsistentRead: true }),
      )
    ).Item;
  const save = (sid: string, data: Data) =>
    new Promise<void>((resolve, reject) =>
      store.set(sid, data as unknown as session.SessionData, (err) => (err ? reject(err) : resolve())),
    );
  const inTwoHours = () => new Date(Date.now() + 7_200_000);

  test('moves the expiry of a live session', async () => {
    await save('live', { cookie: { originalMaxAge: 3_600_000, expires: new Date(Date.now() + 3_600_000) } });
    await touch('live', inTwoHours());
    assert.ok(Number((await raw('live'))?.expires?.N) * 1000 >= inTwoHours().getTime() - 5000);
  });

  test('never creates a session deleted meanwhile', async () => {
    await save('deleted', { cookie: { originalMaxAge: 3_600_000, expires: inTwoHours() }, user: 'ada' });
    await client.send(new DeleteItemCommand({ TableName: tableName, Key: { id: { S: keyOf('deleted') } } }));
    await touch('deleted', inTwoHours());
    assert.equal(await raw('deleted'), undefined);
  });

  test('never revives a session expired but not yet deleted by TTL', async () => {
    await save('expired', { cookie: { originalMaxAge: 3_600_000, expires: inTwoHours() }, user: 'ada' });
    const past = Math.floor(Date.now() / 1000) - 10;
    await client.send(
      new UpdateItemCommand({
        TableName: tableName,
        Key: { id: { S: keyOf('expired') } },
        UpdateExpression: 'SET expires = :e',
        ExpressionAttributeValues: { ':e': { N: String(past) } },
      }),
    );
    await touch('expired', inTwoHours());
    assert.equal(Number((await raw('expired'))?.expires?.N), past);
    const got = await new Promise((resolve, reject) =>
      store.get('expired', (err, s) => (err ? reject(err) : resolve(s))),
    );
    assert.equal(got, null);
  });
});
