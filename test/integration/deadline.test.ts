/**
 * Bounded waits on every path. A local endpoint accepts connections and never answers (DynamoDB
 * Local cannot hang): a client passed in without any timeout, as `new DynamoDBClient({})` is, still
 * gets a 503 within the store's own per-call deadline (`callTimeoutMs`) in every framework, and the
 * hung call is aborted: its connection closed, no retry sent after the deadline.
 */
import assert from 'node:assert/strict';
import { createServer as createHttpServer, type Server } from 'node:http';
import { type AddressInfo, connect, createServer, type Socket } from 'node:net';
import { after, describe, test } from 'node:test';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import express, { type NextFunction, type Request, type Response } from 'express';
import session from 'express-session';
import Fastify from 'fastify';
import Koa from 'koa';
import koaSession from 'koa-session';
import { DynamoDBStore } from '../../adapters/express.ts';
import { dynamodbSessions } from '../../adapters/fastify.ts';
import { DynamoDBStore as KoaStore } from '../../adapters/koa.ts';
import { DEFAULTS, SessionEngine, StoreUnavailableError } from '../../src/index.ts';
import { CookieJar, endpoint, freshTable, listen, localClient, request } from './helpers.ts';

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
const closers: (() => unknown)[] = [];
after(async () => {
  for (const close of closers) await close();
});

/**
 * A server that accepts connections and never answers; it records each connection and its close.
 * With `proxyTo`, it first passes connections through to DynamoDB Local, until `hang()`.
 */
async function hungEndpoint(proxyTo?: string) {
  const sockets: Socket[] = [];
  const closed: number[] = [];
  const piped: Socket[] = [];
  let hanging = proxyTo === undefined;
  const server = createServer((socket) => {
    socket.on('error', () => socket.destroy());
    if (!hanging && proxyTo) {
      const upstream = connect(Number(new URL(proxyTo).port), '127.0.0.1');
      upstream.on('error', () => socket.destroy());
      socket.pipe(upstream).pipe(socket);
      piped.push(socket, upstream);
      return;
    }
    sockets.push(socket);
    socket.resume(); // reads the request, answers nothing
    socket.on('close', () => closed.push(Date.now()));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(() => {
    for (const s of [...sockets, ...piped]) s.destroy();
    server.close();
  });
  const hang = () => {
    hanging = true;
    for (const s of piped) s.destroy(); // kept-alive connections end: the next call connects again
  };
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, sockets, closed, hang };
}

/** A client as an app makes it: no connection or request timeout, the SDK's default 3 attempts. */
/**
 * A client without timeouts, as `new DynamoDBClient({})` is. Plain, the store sends on the direct
 * path; with a middleware of the app's (here one that does nothing), through its `send` (the SDK path).
 */
function untimedClient(url: string, withMiddleware = false): DynamoDBClient {
  const client = new DynamoDBClient({ region: 'us-east-1', endpoint: url, credentials });
  if (withMiddleware) client.middlewareStack.add((next) => (args) => next(args), { step: 'initialize' });
  closers.push(() => client.destroy());
  return client;
}

const clientKinds = [
  { withMiddleware: false, path: 'a plain client (direct path)' },
  { withMiddleware: true, path: 'a client with middleware (SDK path)' },
];

async function failure(run: () => Promise<unknown>): Promise<{ err: StoreUnavailableError; ms: number }> {
  const started = Date.now();
  const err = await run().then(
    () => assert.fail('the call succeeded'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof StoreUnavailableError, String(err));
  return { err, ms: Date.now() - started };
}

describe('the engine', () => {
  for (const { withMiddleware, path } of clientKinds)
    test(`${path} passed in without timeouts fails within callTimeoutMs, and its hung call is aborted`, async () => {
      const hung = await hungEndpoint();
      const engine = new SessionEngine({
        client: untimedClient(hung.url, withMiddleware),
        tableName: 'sessions',
        callTimeoutMs: 600,
      });
      const { err, ms } = await failure(() => engine.get('a'));
      assert.ok(ms >= 550 && ms < 1500, `answered after ${ms} ms`);
      assert.equal(err.code, 'ERR_STORE_UNAVAILABLE');
      assert.equal(err.status, 503);
      assert.equal(err.operation, 'GetItem');
      assert.equal((err.cause as Error).name, 'TimeoutError');
      assert.match(err.detail, /within 600 ms \(callTimeoutMs\)/);
      assert.equal(engine.stats().operations.GetItem?.errors, 1);
      // the SDK was told: the connection is closed, and no retry follows
      await new Promise((resolve) => setTimeout(resolve, 400));
      assert.equal(hung.sockets.length, 1, 'one attempt, no retry after the deadline');
      assert.equal(hung.closed.length, 1, 'its connection closed');
    });

  test("the store's own client with a request handler without timeouts is bounded and aborted the same way", async () => {
    const hung = await hungEndpoint();
    const engine = new SessionEngine({
      tableName: 'sessions',
      callTimeoutMs: 600,
      // a requestHandler of one's own replaces the store's bounded one: no timeouts at all
      clientConfig: { region: 'us-east-1', endpoint: hung.url, credentials, requestHandler: {} },
    });
    closers.push(() => engine.close());
    const { err, ms } = await failure(() => engine.get('a'));
    assert.ok(ms >= 550 && ms < 1500, `answered after ${ms} ms`);
    assert.equal(err.operation, 'GetItem');
    assert.equal((err.cause as Error).name, 'TimeoutError');
    await new Promise((resolve) => setTimeout(resolve, 400));
    assert.equal(hung.sockets.length, 1);
    assert.equal(hung.closed.length, 1, 'its connection closed');
  });

  test('a call that answers before the deadline is not affected by it', async () => {
    const server = createHttpServer((req, res) => {
      req.resume();
      req.on('end', () =>
        setTimeout(() => {
          res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
          res.end('{}');
        }, 150),
      );
    });
    const url = await listen(server);
    closers.push(() => server.close());
    for (const options of [
      { client: untimedClient(url) },
      { client: untimedClient(url, true) },
      { clientConfig: { region: 'us-east-1', endpoint: url, credentials } },
    ]) {
      const engine = new SessionEngine({ ...options, tableName: 'sessions', callTimeoutMs: 1000 });
      assert.equal(await engine.get('a'), null);
      engine.close();
    }
  });
});

describe(`every framework with a client passed in, plain or with middleware: a 503 within the default deadline (${DEFAULTS.callTimeoutMs} ms)`, {
  concurrency: true,
}, () => {
  const bound = DEFAULTS.callTimeoutMs;

  /** An app of the framework on a store whose client has no timeouts, behind an endpoint that can hang. */
  type App = (client: DynamoDBClient, tableName: string) => Promise<string>;

  /**
   * A login while DynamoDB answers; then DynamoDB hangs: a read of the session (one GetItem) answers
   * 503 within the deadline, and so does a login whose save is the request's only call.
   */
  async function check(app: App, { loginWhileHung }: { loginWhileHung: boolean }): Promise<void> {
    // both kinds of client at once: the deadline is waited once
    await Promise.all(clientKinds.map(({ withMiddleware }) => checkOne(app, loginWhileHung, withMiddleware)));
  }

  async function checkOne(app: App, loginWhileHung: boolean, withMiddleware: boolean): Promise<void> {
    const endpointUrl = await endpoint();
    const tableName = await freshTable(await localClient());
    const hung = await hungEndpoint(endpointUrl);
    const base = await app(untimedClient(hung.url, withMiddleware), tableName);
    const jar = new CookieJar();
    assert.equal((await request(base, '/login', jar, { method: 'POST' })).status, 200);
    assert.equal((await request(base, '/me', jar)).status, 200);
    hung.hang();
    const timed = async (path: string, method: string, j: CookieJar) => {
      const started = Date.now();
      const res = await request(base, path, j, { method });
      const ms = Date.now() - started;
      assert.equal(res.status, 503, `${method} ${path}`);
      assert.ok(ms >= bound - 100 && ms < bound + 2_000, `${method} ${path} answered after ${ms} ms`);
    };
    await Promise.all([
      timed('/me', 'GET', jar),
      ...(loginWhileHung ? [timed('/login', 'POST', new CookieJar())] : []),
    ]);
  }

  test('express', () =>
    check(
      async (client, tableName) => {
        const app = express();
        app.set('env', 'test');
        app.use(
          session({
            store: new DynamoDBStore({ client, tableName }),
            secret: 'deadline-secret',
            resave: false,
            saveUninitialized: false,
          }),
        );
        const bag = (req: Request) => req.session as unknown as Record<string, unknown>;
        app.post('/login', (req, res, next) => {
          bag(req).user = 'ada';
          req.session.save((err) => (err ? next(err) : res.json({ ok: true })));
        });
        app.get('/me', (req, res) => {
          res.json({ user: bag(req).user ?? null });
        });
        app.use((err: { status?: number }, _req: Request, res: Response, _next: NextFunction) => {
          res.status(err.status ?? 500).json({});
        });
        const server: Server = createHttpServer(app);
        closers.push(() => server.close());
        return listen(server);
      },
      { loginWhileHung: true },
    ));

  // @fastify/session calls `set` a second time when the first one failed (its error reply runs its
  // onSend hook again), so a failed login costs two deadlines there: only the read is one call
  test('fastify', () =>
    check(
      async (client, tableName) => {
        const app = Fastify();
        await app.register(dynamodbSessions, {
          client,
          tableName,
          secret: 'a deadline secret of at least thirty-two characters',
          saveUninitialized: false,
        });
        app.post('/login', async (req) => {
          (req.session as unknown as Record<string, unknown>).user = 'ada';
          return { ok: true };
        });
        app.get('/me', async (req) => ({
          user: (req.session as unknown as Record<string, unknown>).user ?? null,
        }));
        await app.listen({ port: 0, host: '127.0.0.1' });
        closers.push(() => app.close());
        return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
      },
      { loginWhileHung: false },
    ));

  test('koa', () =>
    check(
      async (client, tableName) => {
        const app = new Koa();
        app.keys = ['deadline-key'];
        app.silent = true;
        app.use(koaSession({ store: new KoaStore({ client, tableName }) }, app));
        app.use((ctx) => {
          const sess = ctx.session as unknown as Record<string, unknown>;
          if (ctx.path === '/login') sess.user = 'ada';
          ctx.body = { user: sess.user ?? null };
        });
        const server: Server = createHttpServer(app.callback());
        closers.push(() => server.close());
        return listen(server);
      },
      { loginWhileHung: true },
    ));
});
