/**
 * Tracing with the real OpenTelemetry SDK, its in-memory exporter, and the instrumentations an app
 * registers (what auto-instrumentation does): HTTP, and the AWS SDK's, which makes the spans of the
 * calls sent through `client.send`. One request through each framework on both paths: the store's
 * own client (its calls sent by the direct path, spans made by the store) and a client passed in
 * (every call through `send`, spans made by the instrumentation). The spans must be the same.
 */
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { type Attributes, context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { AwsInstrumentation } from '@opentelemetry/instrumentation-aws-sdk';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import {
  InMemorySpanExporter,
  NodeTracerProvider,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-node';

const exporter = new InMemorySpanExporter();
const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
provider.register();
registerInstrumentations({ instrumentations: [new HttpInstrumentation(), new AwsInstrumentation()] });

// loaded only now: the instrumentations hook the modules as they are first required
const { DynamoDBClient } = await import('@aws-sdk/client-dynamodb');
const { default: express } = await import('express');
const { default: session } = await import('express-session');
const { default: Fastify } = await import('fastify');
const { default: Koa } = await import('koa');
const { default: koaSession } = await import('koa-session');
const { createServer } = await import('node:http');
const { DynamoDBStore } = await import('../../adapters/express.ts');
const { dynamodbSessions } = await import('../../adapters/fastify.ts');
const { DynamoDBStore: KoaStore } = await import('../../adapters/koa.ts');
const { SessionEngine } = await import('../../src/index.ts');
const { CookieJar, freshTable, listen, localClient, localConfig, request } = await import('./helpers.ts');

type Path = 'own client' | 'client passed in';
const paths: Path[] = ['own client', 'client passed in'];
const region = 'us-east-1';
let tableName = '';
const closers: (() => unknown)[] = [];

before(async () => {
  tableName = await freshTable(await localClient());
});
after(async () => {
  for (const close of closers) await close();
  await provider.shutdown();
});

/** The store options of a path: its own client (only the connection configured), or a client of the app's. */
async function storeOptions(path: Path, extra: Record<string, unknown> = {}) {
  const connection = await localConfig();
  const where =
    path === 'own client' ? { clientConfig: connection } : { client: new DynamoDBClient(connection) };
  return { tableName, ...where, ...extra };
}

async function expressApp(path: Path): Promise<string> {
  const app = express();
  app.use(
    session({
      store: new DynamoDBStore(await storeOptions(path)),
      secret: 'tracing-secret',
      resave: false,
      saveUninitialized: false,
      cookie: { maxAge: 3_600_000 },
    }),
  );
  const bag = (req: { session: object }) => req.session as Record<string, unknown>;
  app.post('/login', (req, res, next) => {
    bag(req).user = 'ada';
    req.session.save((err) => (err ? next(err) : res.json({ ok: true })));
  });
  app.get('/me', (req, res) => {
    res.json({ user: bag(req).user ?? null });
  });
  const server: Server = createServer(app);
  closers.push(() => server.close());
  return listen(server);
}

async function fastifyApp(path: Path): Promise<string> {
  const app = Fastify();
  await app.register(dynamodbSessions, {
    ...(await storeOptions(path)),
    secret: 'a tracing secret of at least thirty-two characters',
    cookie: { maxAge: 3_600_000 },
    saveUninitialized: false,
  });
  app.post('/login', async (req) => {
    (req.session as unknown as Record<string, unknown>).user = 'ada';
    return { ok: true };
  });
  app.get('/me', async (req) => ({ user: (req.session as unknown as Record<string, unknown>).user ?? null }));
  await app.listen({ port: 0, host: '127.0.0.1' });
  closers.push(() => app.close());
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
}

async function koaApp(path: Path): Promise<string> {
  const app = new Koa();
  app.keys = ['tracing-key'];
  app.use(koaSession({ store: new KoaStore(await storeOptions(path)), maxAge: 3_600_000 }, app));
  app.use((ctx) => {
    const sess = ctx.session as unknown as Record<string, unknown>;
    if (ctx.path === '/login') sess.user = 'ada';
    ctx.body = { user: sess.user ?? null };
  });
  const server: Server = createServer(app.callback());
  closers.push(() => server.close());
  return listen(server);
}

const apps = { express: expressApp, fastify: fastifyApp, koa: koaApp };

const isServerSpanOf = (s: ReadableSpan, method: string, path: string) =>
  s.kind === SpanKind.SERVER &&
  (s.attributes['http.method'] ?? s.attributes['http.request.method']) === method &&
  (s.attributes['http.target'] ?? s.attributes['url.path']) === path;

/** The spans of one request: its server span, and the spans of its trace. Waits for the server span to end. */
async function requestSpans(
  method: string,
  path: string,
): Promise<{ server: ReadableSpan; trace: ReadableSpan[] }> {
  for (let i = 0; i < 100; i++) {
    const server = exporter.getFinishedSpans().find((s) => isServerSpanOf(s, method, path));
    if (server) {
      const id = server.spanContext().traceId;
      return { server, trace: exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === id) };
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.fail(`no server span for ${method} ${path}`);
}

const dynamoSpans = (spans: ReadableSpan[]) => spans.filter((s) => s.name.startsWith('DynamoDB.'));
const parentOf = (s: ReadableSpan) => s.parentSpanContext?.spanId;

/** A span's attributes without the request id (a different one per call). */
function comparable(s: ReadableSpan): Attributes {
  const { 'aws.request.id': requestId, ...rest } = s.attributes;
  assert.equal(typeof requestId, 'string', `${s.name} has a request id`);
  return rest;
}

/** What each request of a framework's login and read leaves in its trace, per path. */
const seen = new Map<string, { login: ReadableSpan[]; read: ReadableSpan[] }>();

for (const [framework, makeApp] of Object.entries(apps)) {
  describe(`${framework}: every DynamoDB call of a request is a client span of that request`, () => {
    for (const path of paths) {
      test(`${path}: DynamoDB.PutItem under POST /login, DynamoDB.GetItem under GET /me, each with its HTTP call as child`, async () => {
        exporter.reset();
        const base = await makeApp(path);
        const jar = new CookieJar();
        assert.equal((await request(base, '/login', jar, { method: 'POST' })).status, 200);
        assert.deepEqual((await request(base, '/me', jar)).body, { user: 'ada' });
        const login = await requestSpans('POST', '/login');
        const read = await requestSpans('GET', '/me');
        assert.deepEqual(
          dynamoSpans(login.trace).map((s) => s.name),
          ['DynamoDB.PutItem'],
        );
        assert.deepEqual(
          dynamoSpans(read.trace).map((s) => s.name),
          ['DynamoDB.GetItem'],
        );
        for (const { server, trace: spans } of [login, read]) {
          const [call] = dynamoSpans(spans);
          assert.ok(call);
          assert.equal(call.kind, SpanKind.CLIENT);
          assert.equal(parentOf(call), server.spanContext().spanId, 'a child of the request span');
          assert.equal(call.status.code, SpanStatusCode.UNSET);
          const http = spans.filter(
            (s) => s.kind === SpanKind.CLIENT && parentOf(s) === call.spanContext().spanId,
          );
          assert.equal(http.length, 1, 'its HTTP request is its only child');
        }
        const scope = path === 'own client' ? 'dynamodb-sessions' : '@opentelemetry/instrumentation-aws-sdk';
        for (const s of dynamoSpans([...login.trace, ...read.trace]))
          assert.equal(s.instrumentationScope.name, scope);
        seen.set(`${framework} ${path}`, { login: dynamoSpans(login.trace), read: dynamoSpans(read.trace) });
      });
    }

    test('both paths give the spans the same attributes', (t) => {
      const own = seen.get(`${framework} own client`);
      const given = seen.get(`${framework} client passed in`);
      if (!own || !given) {
        t.skip('a path failed above');
        return;
      }
      for (const step of ['login', 'read'] as const) {
        const a: ReadableSpan | undefined = own[step][0];
        const b: ReadableSpan | undefined = given[step][0];
        assert.ok(a && b);
        assert.deepEqual(comparable(a), comparable(b));
      }
      const [get] = own.read;
      assert.deepEqual(get && comparable(get), {
        'rpc.system': 'aws-api',
        'rpc.method': 'GetItem',
        'rpc.service': 'DynamoDB',
        'cloud.region': region,
        'db.system.name': 'dynamodb',
        'db.namespace': tableName,
        'db.operation.name': 'GetItem',
        'aws.dynamodb.table_names': [tableName],
        'http.response.status_code': 200,
      });
    });
  });
}

describe('engine calls outside a framework', () => {
  /** Runs `fn` inside an active span, and returns the DynamoDB spans made under it. */
  async function under(fn: () => Promise<unknown>): Promise<{ parent: string; spans: ReadableSpan[] }> {
    exporter.reset();
    const tracer = trace.getTracer('test');
    const parent = tracer.startSpan('work');
    await context.with(trace.setSpan(context.active(), parent), () => fn().catch(() => undefined));
    parent.end();
    return { parent: parent.spanContext().spanId, spans: dynamoSpans(exporter.getFinishedSpans()) };
  }

  test('with capacity: true, both paths record the consumed capacity DynamoDB reports', async () => {
    const results: ReadableSpan[][] = [];
    for (const path of paths) {
      const engine = new SessionEngine(await storeOptions(path, { capacity: true, prefix: `cap-${path}#` }));
      const { parent, spans } = await under(async () => {
        await engine.set('cap', { cart: 'x'.repeat(1500) });
        await engine.load('cap');
      });
      assert.equal(spans.length, engine.stats().total.calls, 'one span per call');
      assert.ok(spans.some((s) => s.name === 'DynamoDB.PutItem'));
      assert.equal(spans.at(-1)?.name, 'DynamoDB.GetItem');
      for (const s of spans) assert.equal(parentOf(s), parent);
      results.push(spans);
    }
    const [own = [], given = []] = results;
    assert.deepEqual(
      own.map((s) => s.name),
      given.map((s) => s.name),
    );
    own.forEach((a, i) => {
      const b = given[i];
      assert.ok(b);
      assert.deepEqual(comparable(a), comparable(b));
    });
    const put = own.find((s) => s.name === 'DynamoDB.PutItem')?.attributes['aws.dynamodb.consumed_capacity'];
    assert.deepEqual(put, [JSON.stringify({ TableName: tableName, CapacityUnits: 2 })]);
  });

  test('a failed call is an error span on both paths, with the same status, attributes and exception', async () => {
    const results: ReadableSpan[] = [];
    for (const path of paths) {
      const engine = new SessionEngine({ ...(await storeOptions(path)), tableName: 'no_such_table' });
      const { spans } = await under(() => engine.get('x'));
      assert.equal(spans.length, 1, 'one span, not one per path');
      const [span] = spans;
      assert.ok(span);
      results.push(span);
    }
    const [a, b] = results;
    assert.ok(a && b);
    assert.deepEqual(a.status, b.status);
    assert.equal(a.status.code, SpanStatusCode.ERROR);
    assert.equal(a.attributes['http.response.status_code'], 400);
    const exceptionOf = (s: ReadableSpan) => {
      const event = s.events.find((e) => e.name === 'exception');
      return {
        type: event?.attributes?.['exception.type'],
        message: event?.attributes?.['exception.message'],
      };
    };
    assert.deepEqual(exceptionOf(a), exceptionOf(b));
    assert.equal(exceptionOf(a).type, 'ResourceNotFoundException');
    const { 'aws.request.id': _a, ...restA } = a.attributes;
    const { 'aws.request.id': _b, ...restB } = b.attributes;
    assert.deepEqual(restA, restB);
  });

  test('a client passed in gets exactly one span per call: the store makes none of its own', async () => {
    const engine = new SessionEngine(await storeOptions('client passed in', { prefix: 'once#' }));
    const { spans } = await under(async () => {
      await engine.set('a', { n: 1 });
      await engine.get('a');
      await engine.destroy('a');
      await engine.get('a');
    });
    assert.equal(spans.length, engine.stats().total.calls);
    assert.ok(spans.every((s) => s.instrumentationScope.name === '@opentelemetry/instrumentation-aws-sdk'));
  });
});
