/**
 * An app started before its table was created: the first login answers 503 with no cookie, and the
 * error's `advice` names the table, where the client looked (region, endpoint) and the command that
 * creates it, in each framework, with the store's own client and with a client passed in (DynamoDB Local).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { after, before, describe, test } from 'node:test';
import type { DynamoDBClient, DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import express, { type NextFunction, type Request, type Response } from 'express';
import session from 'express-session';
import Fastify from 'fastify';
import Koa from 'koa';
import { DynamoDBStore as ExpressStore } from '../../adapters/express.ts';
import { dynamodbSessions } from '../../adapters/fastify.ts';
import { dynamodbSession } from '../../adapters/koa.ts';
import { createTable, SessionEngine, StoreUnavailableError } from '../../src/index.ts';
import { CookieJar, countCommands, endpoint, listen, localClient, localConfig, request } from './helpers.ts';

declare module 'express-session' {
  interface SessionData {
    user?: { name: string };
  }
}
declare module 'fastify' {
  interface Session {
    user?: { name: string };
  }
}

const secret = 'a secret of at least thirty-two characters';
let url = '';
let client: DynamoDBClient;
/** A client with a middleware of the app's: the store sends through its `send` (the SDK path). */
let clientWithMiddleware: DynamoDBClient;
/** The connection of a store that makes its own client. */
let clientConfig: DynamoDBClientConfig;
const closers: (() => unknown)[] = [];

before(async () => {
  url = await endpoint();
  client = await localClient();
  clientWithMiddleware = await localClient();
  countCommands(clientWithMiddleware);
  clientConfig = await localConfig();
});
after(async () => {
  for (const close of closers) await close();
});

const missingName = () => `not_created_${randomBytes(4).toString('hex')}`;

/** What the app's error handler saw, and what the browser got. */
interface Outcome {
  status: number;
  setCookie: string[];
  error: unknown;
}

type Path = 'own' | 'passed' | 'passed with middleware';

/** Store options: the store's own client, a plain `client` passed in, or one with middleware. */
function storeOptions(path: Path, tableName: string) {
  if (path === 'own') return { tableName, clientConfig };
  return { tableName, client: path === 'passed' ? client : clientWithMiddleware };
}

const pathName: Record<Path, string> = {
  own: "the store's own client",
  passed: 'a plain client passed in',
  'passed with middleware': 'a client with middleware passed in (SDK path)',
};

async function expressLogin(options: ReturnType<typeof storeOptions>): Promise<Outcome> {
  let error: unknown;
  const store = new ExpressStore(options);
  closers.push(() => store.close());
  const app = express();
  app.use(session({ store, secret, resave: false, saveUninitialized: false }));
  // the README's login: a new id, and the save awaited so that its failure reaches the error handler
  app.post('/login', (req, res, next) => {
    req.session.regenerate((err) => {
      if (err) return next(err);
      req.session.user = { name: 'ada' };
      req.session.save((saveErr) => (saveErr ? next(saveErr) : res.json({ ok: true })));
    });
  });
  app.use((err: { status?: number }, _req: Request, res: Response, _next: NextFunction) => {
    error = err;
    res.status(err.status ?? 500).json({});
  });
  const server = createServer(app);
  closers.push(() => server.close());
  const { res } = await request(await listen(server), '/login', new CookieJar(), { method: 'POST' });
  return { status: res.status, setCookie: res.headers.getSetCookie(), error };
}

async function fastifyLogin(options: ReturnType<typeof storeOptions>): Promise<Outcome> {
  let error: unknown;
  const app = Fastify();
  closers.push(() => app.close());
  await app.register(dynamodbSessions, { secret, ...options });
  app.setErrorHandler((err: { statusCode?: number }, _req, reply) => {
    error = err;
    reply.code(err.statusCode ?? 500).send({});
  });
  app.post('/login', async (req) => {
    req.session.user = { name: 'ada' };
    return { ok: true };
  });
  const base = await app.listen({ port: 0, host: '127.0.0.1' });
  const { res } = await request(base, '/login', new CookieJar(), { method: 'POST' });
  return { status: res.status, setCookie: res.headers.getSetCookie(), error };
}

async function koaLogin(options: ReturnType<typeof storeOptions>): Promise<Outcome> {
  let error: unknown;
  const app = new Koa();
  app.keys = [secret];
  app.use(async (ctx, next) => {
    try {
      await next();
    } catch (err) {
      error = err;
      ctx.status = (err as { status?: number }).status ?? 500;
      ctx.body = {};
    }
  });
  const middleware = dynamodbSession(app, options);
  closers.push(() => middleware.store.close());
  app.use(middleware);
  app.use((ctx) => {
    if (ctx.session) ctx.session.user = { name: 'ada' };
    ctx.body = { ok: true };
  });
  const server = createServer(app.callback());
  closers.push(() => server.close());
  const { res } = await request(await listen(server), '/login', new CookieJar(), { method: 'POST' });
  return { status: res.status, setCookie: res.headers.getSetCookie(), error };
}

const frameworks = { express: expressLogin, fastify: fastifyLogin, koa: koaLogin };

describe('a table never created', () => {
  for (const [framework, login] of Object.entries(frameworks)) {
    for (const path of ['own', 'passed', 'passed with middleware'] as const) {
      test(`${framework}, ${pathName[path]}: 503, no cookie, and the error's advice says which table, where, and how to create it`, async () => {
        const tableName = missingName();
        const outcome = await login(storeOptions(path, tableName));
        assert.equal(outcome.status, 503);
        assert.deepEqual(outcome.setCookie, [], 'no Set-Cookie for a session that was not saved');
        const err = outcome.error;
        assert.ok(err instanceof StoreUnavailableError, `a StoreUnavailableError, got ${String(err)}`);
        assert.equal(err.code, 'ERR_STORE_UNAVAILABLE');
        // the message can reach a visitor: what the operator needs is beside it
        assert.equal(err.message, 'session store unavailable');
        assert.match(err.detail, /ResourceNotFoundException/);
        const advice = err.advice ?? '';
        const at = `--table ${tableName} --region us-east-1 --endpoint ${url.replace(/\/$/, '')}`;
        assert.ok(
          advice.includes(
            `The table "${tableName}" does not exist (region us-east-1, endpoint ${url.replace(/\/$/, '')})`,
          ),
          advice,
        );
        assert.ok(advice.includes(`npx dynamodb-sessions create-table ${at} `), advice);
        assert.ok(advice.includes(`createTable(client, { tableName: '${tableName}' })`), advice);
      });
    }
  }

  test('a table with its own key and expiry names: the advice names them, and what it advises makes a table the store uses', async () => {
    const tableName = missingName();
    const engine = new SessionEngine({
      tableName,
      hashKey: 'pk',
      expiresAttribute: 'ttl',
      clientConfig,
    });
    closers.push(() => engine.close());
    const err = await engine.get('someone').then(
      () => assert.fail('a missing table is an error'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof StoreUnavailableError);
    // a key and an expiry attribute of their own are named in both forms of the advice
    assert.match(err.advice ?? '', / --hash-key pk --ttl-attribute ttl /);
    assert.match(
      err.advice ?? '',
      /createTable\(client, \{ tableName: '[^']+', hashKey: 'pk', expiresAttribute: 'ttl' \}\)/,
    );
    await createTable(client, { tableName, hashKey: 'pk', expiresAttribute: 'ttl' });
    await engine.set('someone', { user: 'ada' }, Math.floor(Date.now() / 1000) + 60, { loaded: null });
    assert.deepEqual(await engine.get('someone'), { user: 'ada' });
  });
});
