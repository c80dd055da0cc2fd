/**
 * Options given in the wrong place, in each framework: a typed error that says where they go, and the
 * place it names works (sessions kept over HTTP with cookies, on DynamoDB Local).
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import express from 'express';
import session from 'express-session';
import Fastify from 'fastify';
import Koa from 'koa';
import { DynamoDBStore as ExpressStore } from '../../adapters/express.ts';
import { dynamodbSessions } from '../../adapters/fastify.ts';
import { dynamodbSession } from '../../adapters/koa.ts';
import { InvalidOptionError } from '../../src/index.ts';
import { CookieJar, endpoint, freshTable, listen, localClient, request } from './helpers.ts';

declare module 'express-session' {
  interface SessionData {
    n?: number;
  }
}
declare module 'fastify' {
  interface Session {
    n?: number;
  }
}

const client = await localClient();
const day = 86_400_000; // ms
const secret = 'a secret of at least thirty-two characters';
let tableName = '';
let clientConfig: {
  region: string;
  endpoint: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
};
const closers: (() => unknown)[] = [];

before(async () => {
  tableName = await freshTable(client);
  const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
  clientConfig = { region: 'us-east-1', endpoint: await endpoint(), credentials };
});
after(async () => {
  for (const close of closers) await close();
});

/** Asserts an `InvalidOptionError` naming `option`, whose message has `advice`. */
function refused(option: string, advice: RegExp) {
  return (e: unknown) =>
    e instanceof InvalidOptionError &&
    e.code === 'ERR_INVALID_OPTION' &&
    e.option === option &&
    advice.test(e.message);
}

/** Three requests counting in the session: 1, 2, 3 when the session is kept. */
async function counts(base: string): Promise<{ values: unknown[]; jar: CookieJar; setCookie: string[] }> {
  const jar = new CookieJar();
  const values: unknown[] = [];
  let setCookie: string[] = [];
  for (let i = 0; i < 3; i++) {
    const { body, res } = await request(base, '/count', jar);
    if (i === 0) setCookie = res.headers.getSetCookie();
    values.push(body);
  }
  return { values, jar, setCookie };
}

async function itemsInTable(): Promise<number> {
  // a test may scan its own small table; the store never does
  const out = await client.send(new ScanCommand({ TableName: tableName, ConsistentRead: true }));
  return out.Count ?? 0;
}

describe('options in the wrong place', () => {
  test('Express: region beside tableName is refused; clientConfig.region, as the error says, keeps sessions', async () => {
    assert.throws(
      () => new ExpressStore({ tableName, region: 'eu-west-1' } as never),
      refused('region', /\{ clientConfig: \{ region: "eu-west-1" \} \}/),
    );
    assert.throws(
      () => new ExpressStore({ table: tableName } as never),
      refused('table', new RegExp(`did you mean tableName\\? \\{ tableName: "${tableName}" \\}`)),
    );
    const store = new ExpressStore({ tableName, clientConfig });
    closers.push(() => store.close());
    const app = express();
    app.use(session({ store, secret, resave: false, saveUninitialized: false }));
    app.get('/count', (req, res) => {
      req.session.n = (req.session.n ?? 0) + 1;
      res.json(req.session.n);
    });
    const server = createServer(app);
    closers.push(() => server.close());
    const before = await itemsInTable();
    assert.deepEqual((await counts(await listen(server))).values, [1, 2, 3]);
    assert.equal(await itemsInTable(), before + 1, 'the session is in the table named');
  });

  test('Fastify: the plugin refuses a top-level maxAge, naming cookie.maxAge; cookie.maxAge sets the cookie', async () => {
    const wrong = Fastify();
    await assert.rejects(
      async () => {
        await wrong.register(dynamodbSessions, { secret, tableName, clientConfig, maxAge: day } as never);
      },
      refused('maxAge', /a cookie setting; it goes under cookie: \{ cookie: \{ maxAge: 86400000 \} \}/),
    );
    await wrong.close();
    const misplaced = Fastify();
    await assert.rejects(
      async () => {
        await misplaced.register(dynamodbSessions, {
          secret,
          tableName,
          endpoint: clientConfig.endpoint,
        } as never);
      },
      refused('endpoint', /\{ clientConfig: \{ endpoint: "http:\/\/127\.0\.0\.1:\d+" \} \}/),
    );
    await misplaced.close();

    const app = Fastify();
    closers.push(() => app.close());
    // Fastify's own register options reach every plugin: they are not the store's, and not an error
    await app.register(dynamodbSessions, {
      secret,
      tableName,
      clientConfig,
      cookie: { maxAge: day },
      logLevel: 'warn',
    } as never);
    app.get('/count', async (req) => {
      req.session.n = (req.session.n ?? 0) + 1;
      return req.session.n;
    });
    const { values, setCookie } = await counts(await app.listen({ port: 0, host: '127.0.0.1' }));
    assert.deepEqual(values, [1, 2, 3]);
    const expires = /Expires=([^;]+)/.exec(setCookie.join(';'))?.[1];
    assert.ok(expires, `the cookie has an expiry: ${setCookie.join(' | ')}`);
    const lifetime = Date.parse(expires) - Date.now();
    assert.ok(lifetime > day - 60_000 && lifetime <= day + 1000, `cookie.maxAge applied: ${lifetime} ms`);
  });

  test("Koa: the store's tableName under session and koa-session's maxAge at the top are refused; the right places work", async () => {
    const app = new Koa();
    app.keys = ['a key for the signed cookie'];
    assert.throws(
      () => dynamodbSession(app, { session: { tableName } as never }),
      refused('session.tableName', new RegExp(`goes at the top level: \\{ tableName: "${tableName}"`)),
    );
    assert.throws(
      () => dynamodbSession(app, { tableName, maxAge: day } as never),
      refused(
        'maxAge',
        /an option of koa-session; it goes under session: \{ session: \{ maxAge: 86400000 \} \}/,
      ),
    );
    // koa-session's prefix (of its keys) under session is koa-session's, not an error
    const middleware = dynamodbSession(app, {
      tableName,
      clientConfig,
      session: { maxAge: day, prefix: 'koa:' },
    });
    closers.push(() => middleware.store.close());
    app.use(middleware);
    app.use((ctx) => {
      ctx.session.n = (ctx.session.n ?? 0) + 1;
      ctx.body = ctx.session.n;
    });
    const server = createServer(app.callback());
    closers.push(() => server.close());
    const before = await itemsInTable();
    assert.deepEqual((await counts(await listen(server))).values, [1, 2, 3]);
    assert.equal(await itemsInTable(), before + 1, 'the session is in the table named at the top level');
  });
});
