/**
 * A server of one framework (argv[2]: express, fastify or koa) on the store, run as its own process
 * by unstorable.test.ts: an uncaught exception ends this process, which the test can see. Each route
 * puts a value JSON cannot hold into the session (`/bigint`, `/cycle`, `/self` for a cycle through the
 * session object itself), and `?how=` says how the request ends: `end` (the framework's save after the
 * route), `save` (the route saves and waits), `later` (the answer is sent from a timer, outside any
 * handler). `/errors` lists the errors the app saw since the last time it was asked. Prints its URL on stdout once it listens.
 */
import { createServer } from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import session from 'express-session';
import Fastify from 'fastify';
import Koa from 'koa';
import { DynamoDBStore } from '../../adapters/express.ts';
import { dynamodbSessions } from '../../adapters/fastify.ts';
import { dynamodbSession } from '../../adapters/koa.ts';

const framework = process.argv[2];
const secret = 'a secret of at least thirty-two characters';
const clientConfig = {
  region: 'us-east-1',
  endpoint: process.env.DDB ?? '',
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
};
const storeOptions = { tableName: process.env.TABLE ?? '', clientConfig };

/** What the app saw: each error's code and, for a SessionDataError, the path it names. */
const seen: { code: unknown; path: unknown; status: unknown }[] = [];
function record(err: unknown): void {
  const e = err as { code?: unknown; path?: unknown; status?: unknown };
  seen.push({ code: e.code, path: e.path, status: e.status });
}

/** Puts a value that JSON cannot hold into `bag`, as the route's name says. */
function spoil(bag: Record<string, unknown>, kind: string): void {
  if (kind === 'bigint') bag.n = 10n;
  else if (kind === 'cycle') {
    const node: Record<string, unknown> = { name: 'node' };
    node.self = node;
    bag.tree = node;
  } else bag.me = bag;
}

const later = (fn: () => void) => setTimeout(fn, 5);

async function startExpress(): Promise<string> {
  const app = express();
  app.use(
    session({ store: new DynamoDBStore(storeOptions), secret, resave: false, saveUninitialized: false }),
  );
  const bag = (req: Request) => req.session as unknown as Record<string, unknown>;
  app.post('/login', (req, res) => {
    bag(req).user = 'ada';
    res.json({ ok: true });
  });
  app.get('/me', (req, res) => {
    res.json({ user: bag(req).user ?? null, spoiled: ['n', 'tree', 'me'].some((k) => k in bag(req)) });
  });
  app.get('/errors', (_req, res) => {
    res.json(seen.splice(0));
  });
  app.post('/:kind', (req, res, next) => {
    spoil(bag(req), String(req.params.kind));
    if (req.query.how === 'save') req.session.save((err) => (err ? next(err) : res.json({ ok: true })));
    else if (req.query.how === 'later') later(() => res.json({ ok: true }));
    else res.json({ ok: true });
  });
  app.use((err: { status?: number }, _req: Request, res: Response, _next: NextFunction) => {
    record(err);
    if (!res.headersSent) res.status(err.status ?? 500).json({ code: (err as { code?: unknown }).code });
  });
  const server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
}

async function startFastify(): Promise<string> {
  const app = Fastify();
  await app.register(dynamodbSessions, { secret, ...storeOptions, cookie: { secure: false } });
  // the default error handler answers; this only records what it answers
  app.addHook('onError', async (_request, _reply, err) => record(err));
  const bag = (session: unknown) => session as Record<string, unknown>;
  app.post('/login', async (request) => {
    bag(request.session).user = 'ada';
    return { ok: true };
  });
  app.get('/me', async (request) => ({
    user: bag(request.session).user ?? null,
    spoiled: ['n', 'tree', 'me'].some((k) => k in bag(request.session)),
  }));
  app.get('/errors', async () => seen.splice(0));
  app.post<{ Params: { kind: string }; Querystring: { how?: string } }>('/:kind', async (request) => {
    spoil(bag(request.session), request.params.kind);
    if (request.query.how === 'save') await request.session.save();
    return { ok: true };
  });
  return app.listen({ port: 0, host: '127.0.0.1' });
}

async function startKoa(): Promise<string> {
  const app = new Koa();
  app.keys = [secret];
  // Koa's own error handling answers; this only records what reaches it
  app.on('error', record);
  app.use(dynamodbSession(app, storeOptions));
  app.use(async (ctx) => {
    const bag = ctx.session as unknown as Record<string, unknown>;
    const [, kind] = ctx.path.split('/');
    if (ctx.path === '/errors') ctx.body = seen.splice(0);
    else if (ctx.path === '/me')
      ctx.body = { user: bag.user ?? null, spoiled: ['n', 'tree', 'me'].some((k) => k in bag) };
    else if (ctx.path === '/login') {
      bag.user = 'ada';
      ctx.body = { ok: true };
    } else {
      spoil(bag, kind ?? '');
      if (ctx.query.how === 'save') await ctx.session?.save();
      ctx.body = { ok: true };
    }
  });
  const server = createServer(app.callback());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
}

const starts: Record<string, () => Promise<string>> = {
  express: startExpress,
  fastify: startFastify,
  koa: startKoa,
};
const start = starts[framework ?? ''];
if (!start) throw new Error(`unknown framework ${String(framework)}`);
process.stdout.write(`${await start()}\n`);
