/**
 * What a visitor learns when the session store fails: each framework with its own default error
 * handling (Express's in development, which sends the stack; Fastify's, which sends `message`;
 * Koa's), DynamoDB down or the table missing, while loading and while saving. The body says the
 * session store is unavailable and nothing of the table, the region, the endpoint or a command; the
 * error object keeps them for the operator.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { after, before, describe, test } from 'node:test';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import express, { type NextFunction, type Request, type Response } from 'express';
import session from 'express-session';
import Fastify from 'fastify';
import Koa from 'koa';
import { DynamoDBStore as ExpressStore } from '../../adapters/express.ts';
import { dynamodbSessions } from '../../adapters/fastify.ts';
import { dynamodbSession } from '../../adapters/koa.ts';
import { StoreUnavailableError } from '../../src/index.ts';
import { whereOf } from '../../src/missing-table.ts';
import { CookieJar, downClient, endpoint, freshTable, listen, localClient, request } from './helpers.ts';

const secret = 'a secret of at least thirty-two characters';
const closers: (() => unknown)[] = [];
let client: DynamoDBClient;
let tableName = '';
let localEndpoint = '';

before(async () => {
  client = await localClient();
  tableName = await freshTable(client);
  localEndpoint = await endpoint();
});
after(async () => {
  for (const close of closers) await close();
});

type StoreOptions = { client: DynamoDBClient; tableName: string };

/** A running app, and the errors its framework handled. */
interface App {
  base: string;
  errors: unknown[];
}

async function expressApp(options: StoreOptions): Promise<App> {
  const errors: unknown[] = [];
  const store = new ExpressStore(options);
  const app = express();
  // development: express's final handler sends the error's stack to the browser
  app.set('env', 'development');
  app.use(session({ store, secret, resave: false, saveUninitialized: false }));
  app.post('/login', (req, res, next) => {
    (req.session as unknown as Record<string, unknown>).user = 'ada';
    req.session.save((err) => (err ? next(err) : res.json({ ok: true })));
  });
  app.get('/me', (req, res) => {
    res.json({ user: (req.session as unknown as Record<string, unknown>).user ?? null });
  });
  // records the error and leaves the answer to express's own final handler
  app.use((err: unknown, _req: Request, _res: Response, next: NextFunction) => {
    errors.push(err);
    next(err);
  });
  const server = createServer(app);
  closers.push(() => server.close());
  return { base: await listen(server), errors };
}

async function fastifyApp(options: StoreOptions): Promise<App> {
  const errors: unknown[] = [];
  const app = Fastify();
  closers.push(() => app.close());
  await app.register(dynamodbSessions, { secret, ...options, cookie: { secure: false } });
  // records the error; Fastify's default error handler answers
  app.addHook('onError', async (_request, _reply, err) => {
    errors.push(err);
  });
  app.post('/login', async (request) => {
    (request.session as unknown as Record<string, unknown>).user = 'ada';
    return { ok: true };
  });
  app.get('/me', async (request) => ({
    user: (request.session as unknown as Record<string, unknown>).user ?? null,
  }));
  return { base: await app.listen({ port: 0, host: '127.0.0.1' }), errors };
}

async function koaApp(options: StoreOptions): Promise<App> {
  const errors: unknown[] = [];
  const app = new Koa();
  app.keys = [secret];
  // records the error in place of Koa's default logging; Koa's own error handling answers
  app.on('error', (err: unknown) => errors.push(err));
  const middleware = dynamodbSession(app, options);
  closers.push(() => middleware.store.close());
  app.use(middleware);
  app.use((ctx) => {
    const bag = ctx.session as unknown as Record<string, unknown>;
    if (ctx.method === 'POST') bag.user = 'ada';
    ctx.body = { user: bag.user ?? null };
  });
  const server = createServer(app.callback());
  closers.push(() => server.close());
  return { base: await listen(server), errors };
}

const frameworks = { express: expressApp, fastify: fastifyApp, koa: koaApp };

/** What must never reach a visitor: the table, the region, where DynamoDB is, and the commands. */
function assertNothingOfTheSetup(body: string, table: string, where: string, label: string): void {
  const host = new URL(where).host;
  for (const secret of [table, host, 'us-east-1', 'npx', 'create-table', 'createTable', 'ECONNREFUSED']) {
    assert.ok(!body.includes(secret), `${label}: the body shows "${secret}":\n${body}`);
  }
}

/**
 * A load (`GET /me` with a session cookie) and a save (`POST /login`, a new session) of a failing
 * app: each a 503 whose body shows nothing of the setup, and whose error (the app saw it) says only
 * that the store is unavailable; `check` reads the rest.
 */
async function eachFailure(
  app: { base: string; errors: unknown[] },
  cookie: CookieJar,
  table: string,
  where: string,
  check: (seen: { body: unknown; text: string; seen: StoreUnavailableError }) => void,
): Promise<void> {
  for (const [path, jar, method] of [
    ['/me', cookie, 'GET'],
    ['/login', new CookieJar(), 'POST'],
  ] as const) {
    const { res, body } = await request(app.base, path, jar, { method });
    assert.equal(res.status, 503, `${method} ${path}`);
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    assertNothingOfTheSetup(text, table, where, `${method} ${path}`);
    const seen = app.errors.at(-1);
    assert.ok(seen instanceof StoreUnavailableError, `${method} ${path}: ${String(seen)}`);
    assert.equal(seen.message, 'session store unavailable');
    check({ body, text, seen });
  }
}

for (const [framework, make] of Object.entries(frameworks)) {
  describe(`${framework}: the 503 a visitor gets`, () => {
    let cookie = new CookieJar();
    before(async () => {
      // a session cookie signed with the apps' secret, so that the failing apps load a session
      const healthy = await make({ client, tableName });
      cookie = new CookieJar();
      assert.equal((await request(healthy.base, '/login', cookie, { method: 'POST' })).status, 200);
    });

    test('DynamoDB down: no endpoint nor error detail in the body; the error keeps them', async () => {
      const down = await downClient();
      const where = (await whereOf(down)).endpoint ?? '';
      assert.match(where, /^http:\/\/127\.0\.0\.1:\d+$/);
      const app = await make({ client: down, tableName });
      await eachFailure(app, cookie, tableName, where, ({ seen }) => {
        assert.ok(seen.detail.includes(new URL(where).host), seen.detail);
        assert.ok(seen.cause instanceof Error, 'the SDK error is the cause');
      });
    });

    test('the table missing: no table, region nor command in the body; the error keeps them', async () => {
      const missing = `not_created_${randomBytes(4).toString('hex')}`;
      const app = await make({ client, tableName: missing });
      await eachFailure(app, cookie, missing, localEndpoint, ({ body, text, seen }) => {
        if (framework === 'fastify')
          assert.equal((body as { message?: unknown }).message, 'session store unavailable');
        if (framework === 'express') assert.match(text, /StoreUnavailableError: session store unavailable/);
        assert.match(seen.detail, /ResourceNotFoundException/);
        for (const part of [
          `"${missing}"`,
          'us-east-1',
          new URL(localEndpoint).host,
          'npx dynamodb-sessions create-table',
        ]) {
          assert.ok(seen.advice?.includes(part), `the advice names ${part}: ${seen.advice}`);
        }
      });
    });
  });
}
