/**
 * Throttling. DynamoDB Local never throttles, so a client middleware placed right below the SDK's
 * retry middleware throws the SDK's own throttling exceptions for the first K attempts of a
 * command: the SDK's real retries run (counted per attempt), then the call succeeds or fails.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import {
  type DynamoDBClient,
  type DynamoDBClientConfig,
  ProvisionedThroughputExceededException,
  ThrottlingException,
} from '@aws-sdk/client-dynamodb';
import express, { type NextFunction, type Request, type Response } from 'express';
import session from 'express-session';
import Fastify, { type FastifyInstance } from 'fastify';
import Koa from 'koa';
import koaSession from 'koa-session';
import { DynamoDBStore } from '../../adapters/express.ts';
import { dynamodbSessions } from '../../adapters/fastify.ts';
import { DynamoDBStore as KoaStore } from '../../adapters/koa.ts';
import { SessionEngine, StoreUnavailableError } from '../../src/index.ts';
import { CookieJar, clientOf, endpoint, freshTable, listen, localClient, request } from './helpers.ts';

type Kind = 'ProvisionedThroughputExceededException' | 'ThrottlingException';

/** Fault injection on one client: `throttle(command, times, kind)`; `attempts` counts every attempt that reached it. */
interface Faults {
  throttle(command: string, times: number, kind?: Kind): void;
  clear(): void;
  attempts: Record<string, number>;
}

function injectFaults(client: DynamoDBClient): Faults {
  const plan = new Map<string, { left: number; kind: Kind }>();
  const faults: Faults = {
    attempts: {},
    throttle(command, times, kind = 'ProvisionedThroughputExceededException') {
      plan.set(command, { left: times, kind });
      faults.attempts = {};
    },
    clear() {
      plan.clear();
      faults.attempts = {};
    },
  };
  // finalizeRequest, below the retry middleware (same step, priority high): each retry passes
  // here again, and nothing is sent for a throttled attempt
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const command = String(context.commandName).replace(/Command$/, '');
      const attempt = (faults.attempts[command] ?? 0) + 1;
      faults.attempts[command] = attempt;
      const rule = plan.get(command);
      if (rule && rule.left > 0) {
        rule.left--;
        const $metadata = { httpStatusCode: 400, requestId: `injected-${attempt}`, attempts: attempt };
        throw rule.kind === 'ThrottlingException'
          ? new ThrottlingException({
              message: 'Rate of requests exceeds the allowed throughput.',
              $metadata,
            })
          : new ProvisionedThroughputExceededException({
              message: 'The level of configured provisioned throughput for the table was exceeded.',
              $metadata,
            });
      }
      return next(args);
    },
    { step: 'finalizeRequest', priority: 'low', name: 'injectedThrottling' },
  );
  return faults;
}

let tableName = '';
let clientConfig: DynamoDBClientConfig = {};
const servers: Server[] = [];
const fastifyApps: FastifyInstance[] = [];
const hourFromNow = () => Math.floor(Date.now() / 1000) + 3600;

before(async () => {
  tableName = await freshTable(await localClient());
  // no `client`: the engine makes its own, with its bounded defaults (3 attempts, standard retries)
  clientConfig = {
    region: 'us-east-1',
    endpoint: await endpoint(),
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  };
});
after(async () => {
  for (const s of servers) s.close();
  await Promise.all(fastifyApps.map((app) => app.close()));
});

async function refusal(run: () => Promise<unknown>): Promise<StoreUnavailableError> {
  try {
    await run();
  } catch (err) {
    assert.ok(err instanceof StoreUnavailableError, String(err));
    return err;
  }
  assert.fail('expected StoreUnavailableError');
}

describe('the engine under throttling', () => {
  test('a read throttled twice is retried by the SDK and succeeds on the third attempt', async () => {
    const engine = new SessionEngine({ tableName, clientConfig });
    const faults = injectFaults(clientOf(engine));
    await engine.set('retried-read', { user: 'ada' }, hourFromNow(), { loaded: null });
    faults.throttle('GetItem', 2);
    assert.deepEqual(await engine.get('retried-read'), { user: 'ada' });
    assert.equal(faults.attempts.GetItem, 3, 'two throttled attempts, then the real one');
    const stats = engine.stats().operations.GetItem;
    assert.equal(stats?.calls, 1, 'retries inside the SDK count as one call');
    assert.equal(stats?.errors, 0);
    assert.equal(stats?.throttles, 0);
  });

  test('a write throttled once (ThrottlingException) is retried and stored', async () => {
    const engine = new SessionEngine({ tableName, clientConfig });
    const faults = injectFaults(clientOf(engine));
    faults.throttle('PutItem', 1, 'ThrottlingException');
    await engine.set('retried-write', { user: 'bo' }, hourFromNow());
    assert.equal(faults.attempts.PutItem, 2);
    faults.clear();
    assert.deepEqual(await new SessionEngine({ tableName, clientConfig }).get('retried-write'), {
      user: 'bo',
    });
  });

  test('a read throttled on every attempt fails after 3 attempts with StoreUnavailableError, throttled: true, counted', async () => {
    const engine = new SessionEngine({ tableName, clientConfig });
    const faults = injectFaults(clientOf(engine));
    await engine.set('always-read', { user: 'cy' }, hourFromNow());
    faults.throttle('GetItem', Number.POSITIVE_INFINITY);
    const err = await refusal(() => engine.get('always-read'));
    assert.equal(err.code, 'ERR_STORE_UNAVAILABLE');
    assert.equal(err.status, 503);
    assert.equal(err.throttled, true);
    assert.equal(err.operation, 'GetItem');
    assert.ok(err.cause instanceof ProvisionedThroughputExceededException);
    assert.equal(err.cause.$metadata.attempts, 3, 'the SDK reports its 3 attempts');
    assert.equal(faults.attempts.GetItem, 3, 'maxAttempts 3, no more');
    assert.match(err.detail, /ProvisionedThroughputExceededException/);
    const stats = engine.stats().operations.GetItem;
    assert.equal(stats?.throttles, 1);
    assert.equal(stats?.errors, 1);
  });

  test('a write throttled on every attempt fails with throttled: true and the stored session is unchanged', async () => {
    const engine = new SessionEngine({ tableName, clientConfig });
    const faults = injectFaults(clientOf(engine));
    await engine.set('always-write', { n: 1 }, hourFromNow());
    faults.throttle('PutItem', Number.POSITIVE_INFINITY, 'ThrottlingException');
    const err = await refusal(() => engine.set('always-write', { n: 2 }, hourFromNow()));
    assert.equal(err.throttled, true);
    assert.ok(err.cause instanceof ThrottlingException);
    assert.equal(faults.attempts.PutItem, 3);
    assert.equal(engine.stats().operations.PutItem?.throttles, 1);
    faults.clear();
    assert.deepEqual(await engine.get('always-write'), { n: 1 });
  });

  test('clientConfig overrides the default attempts: maxAttempts 1 means no retry', async () => {
    const engine = new SessionEngine({ tableName, clientConfig: { ...clientConfig, maxAttempts: 1 } });
    const faults = injectFaults(clientOf(engine));
    faults.throttle('GetItem', 1);
    assert.equal((await refusal(() => engine.get('anything'))).throttled, true);
    assert.equal(faults.attempts.GetItem, 1);
  });
});

describe('frameworks under throttling: 503, never an empty session, never a new session cookie', () => {
  function sid(cookie: string | undefined): string {
    const raw = decodeURIComponent(cookie ?? '');
    return raw.slice(0, raw.lastIndexOf('.'));
  }

  async function expressApp() {
    const store = new DynamoDBStore({ tableName, clientConfig });
    const app = express();
    // quiet: after a failed save, express-session's end-of-request write fails too, and Express logs it
    app.set('env', 'test');
    app.use(express.json());
    app.use(
      session({
        store,
        secret: 'throttle-secret',
        resave: false,
        saveUninitialized: false,
        cookie: { maxAge: 3_600_000 },
      }),
    );
    const bag = (req: Request) => req.session as unknown as Record<string, unknown>;
    const saved = (req: Request) =>
      new Promise<void>((resolve, reject) => req.session.save((err) => (err ? reject(err) : resolve())));
    app.post('/login', async (req, res) => {
      bag(req).user = 'ada';
      bag(req).n = 0;
      await saved(req);
      res.json({ ok: true });
    });
    app.get('/me', (req, res) => {
      res.json({ user: bag(req).user ?? null, n: bag(req).n ?? null });
    });
    // the write matters: answer only once the store has it
    app.post('/n/:n', async (req, res) => {
      bag(req).n = Number(req.params.n);
      await saved(req);
      res.json({ n: bag(req).n });
    });
    // left to express-session's automatic save at the end of the response
    app.post('/auto/:n', (req, res) => {
      bag(req).n = Number(req.params.n);
      res.json({ n: bag(req).n });
    });
    app.use((err: { status?: number; code?: string }, _req: Request, res: Response, _next: NextFunction) => {
      if (!res.headersSent) res.status(err.status ?? 500).json({ code: err.code });
    });
    const server = createServer(app);
    servers.push(server);
    return { base: await listen(server), faults: injectFaults(clientOf(store.engine)) };
  }

  test('express: a throttled read answers 503 without a cookie, and the session is intact afterwards', async () => {
    const { base, faults } = await expressApp();
    const jar = new CookieJar();
    await request(base, '/login', jar, { method: 'POST' });
    const cookie = jar.cookies.get('connect.sid');
    faults.throttle('GetItem', Number.POSITIVE_INFINITY);
    const res = await request(base, '/me', jar);
    assert.equal(res.status, 503);
    assert.deepEqual(res.body, { code: 'ERR_STORE_UNAVAILABLE' });
    assert.deepEqual(res.res.headers.getSetCookie(), []);
    assert.equal(faults.attempts.GetItem, 3);
    faults.clear();
    assert.equal(jar.cookies.get('connect.sid'), cookie);
    assert.deepEqual((await request(base, '/me', jar)).body, { user: 'ada', n: 0 });
  });

  test('express: an awaited save that is throttled answers 503, keeps the session id, and the old data stays', async () => {
    const { base, faults } = await expressApp();
    const jar = new CookieJar();
    await request(base, '/login', jar, { method: 'POST' });
    const before = sid(jar.cookies.get('connect.sid'));
    faults.throttle('PutItem', Number.POSITIVE_INFINITY);
    const res = await request(base, '/n/5', jar, { method: 'POST' });
    assert.equal(res.status, 503);
    for (const line of res.res.headers.getSetCookie())
      assert.equal(sid(line.split(';')[0]?.split('=')[1]), before);
    faults.clear();
    assert.deepEqual((await request(base, '/me', jar)).body, { user: 'ada', n: 0 });
  });

  test("express: express-session's automatic save answers 200 before a throttled write fails, so a write that matters must await save()", async () => {
    const { base, faults } = await expressApp();
    const jar = new CookieJar();
    await request(base, '/login', jar, { method: 'POST' });
    faults.throttle('PutItem', Number.POSITIVE_INFINITY);
    const res = await request(base, '/auto/7', jar, { method: 'POST' });
    assert.equal(res.status, 200, 'the client was told it worked');
    faults.clear();
    assert.deepEqual((await request(base, '/me', jar)).body, { user: 'ada', n: 0 }, 'but the write was lost');
  });

  test('fastify: a throttled read answers 503 without a new session cookie, and the session is intact afterwards', async () => {
    const app = Fastify();
    fastifyApps.push(app);
    await app.register(dynamodbSessions, {
      secret: 'a secret of at least thirty-two characters',
      tableName,
      clientConfig,
      cookie: { maxAge: 3_600_000 },
      saveUninitialized: false,
    });
    app.post('/login', async (req) => {
      (req.session as unknown as Record<string, unknown>).who = 'ada';
      return { ok: true };
    });
    app.get('/me', async (req) => ({
      user: (req.session as unknown as Record<string, unknown>).who ?? null,
    }));
    await app.listen({ port: 0, host: '127.0.0.1' });
    const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    const faults = injectFaults(clientOf(app.dynamodbStore.engine));
    const jar = new CookieJar();
    await request(base, '/login', jar, { method: 'POST' });
    const cookie = jar.cookies.get('sessionId');
    assert.ok(cookie);
    faults.throttle('GetItem', Number.POSITIVE_INFINITY);
    const res = await request(base, '/me', jar);
    assert.equal(res.status, 503);
    assert.equal(jar.cookies.get('sessionId'), cookie, 'no new session cookie');
    faults.clear();
    assert.deepEqual((await request(base, '/me', jar)).body, { user: 'ada' });
  });

  test('koa: a throttled read answers 503 without a new session cookie, and the session is intact afterwards', async () => {
    const store = new KoaStore({ tableName, clientConfig });
    const app = new Koa();
    app.keys = ['throttle-key'];
    app.silent = true;
    app.use(koaSession({ store, maxAge: 3_600_000 }, app));
    app.use((ctx) => {
      const sess = ctx.session as unknown as Record<string, unknown>;
      if (ctx.path === '/login') sess.user = 'ada';
      ctx.body = { user: sess.user ?? null };
    });
    const server = createServer(app.callback());
    servers.push(server);
    const base = await listen(server);
    const faults = injectFaults(clientOf(store.engine));
    const jar = new CookieJar();
    await request(base, '/login', jar);
    const cookie = jar.cookies.get('koa.sess');
    assert.ok(cookie);
    faults.throttle('GetItem', Number.POSITIVE_INFINITY);
    const res = await request(base, '/me', jar);
    assert.equal(res.status, 503);
    assert.deepEqual(res.res.headers.getSetCookie(), []);
    faults.clear();
    assert.equal(jar.cookies.get('koa.sess'), cookie);
    assert.deepEqual((await request(base, '/me', jar)).body, { user: 'ada' });
  });
});
