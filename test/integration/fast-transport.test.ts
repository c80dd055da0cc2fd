import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer as createHttpServer, type IncomingHttpHeaders } from 'node:http';
import { type AddressInfo, createServer, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import {
  type AttributeValue,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  ResourceNotFoundException,
} from '@aws-sdk/client-dynamodb';
import { freePort } from '../../dev/dynamodb-local.ts';
import { SessionEngine, StoreUnavailableError } from '../../src/index.ts';
import { directTransport as fastTransport } from '../../src/transport/direct.ts';
import { sdkTransport } from '../../src/transport/sdk.ts';
import { clientOf, countCommands, endpoint, freshTable, keyOf, localClient, localConfig } from './helpers.ts';
import { bodyOf, countStackRuns, expectedSignature, forward, signatureOf } from './signing.ts';

const sdkClient = await localClient();
let tableName = '';
const inAnHour = () => Math.floor(Date.now() / 1000) + 3600;

before(async () => {
  tableName = await freshTable(sdkClient);
});

/** An engine that makes its own client (the fast path); `sdkCalls` counts the calls sent through its `send`. */
async function fastEngine(options: ConstructorParameters<typeof SessionEngine>[0] = {}) {
  const e = new SessionEngine({ tableName, clientConfig: await localConfig(), ...options });
  const sdkCalls = { count: 0 };
  const client = clientOf(e);
  const send = client.send.bind(client);
  client.send = ((...args: Parameters<typeof send>) => {
    sdkCalls.count++;
    return send(...args);
  }) as typeof send;
  return { engine: e, sdkCalls };
}

/** A local HTTP server answering with `answer`; records each request. */
async function stub(
  answer: (
    n: number,
    body: string,
    headers: IncomingHttpHeaders,
  ) => { status: number; body: string; date?: string } | 'proxy',
) {
  const seen: { headers: IncomingHttpHeaders; body: string }[] = [];
  const target = new URL(await endpoint());
  const server = createHttpServer(async (req, res) => {
    const body = await bodyOf(req);
    seen.push({ headers: req.headers, body });
    const a = answer(seen.length, body, req.headers);
    if (a === 'proxy') {
      forward(target, req, body, res);
      return;
    }
    if (a.date) res.setHeader('date', a.date);
    res.writeHead(a.status, { 'content-type': 'application/x-amz-json-1.0' });
    res.end(a.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  after(() => server.close());
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

const throttled = JSON.stringify({
  __type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException',
  message: 'The level of configured provisioned throughput for the table was exceeded.',
});

describe('which path', () => {
  test('an engine that makes its own client sends its item calls without the SDK stack', async () => {
    const { engine, sdkCalls } = await fastEngine();
    await engine.set('which-1', { a: 1 }, inAnHour(), { loaded: null });
    assert.deepEqual((await engine.load('which-1'))?.data, { a: 1 });
    await engine.touch('which-1', inAnHour() - 600);
    await engine.destroy('which-1');
    assert.equal(await engine.get('which-1'), null);
    assert.equal(sdkCalls.count, 0);
    // Put, Get, Update, Put (tombstone) with a Get under the plain id, Get
    assert.equal(engine.stats().total.calls, 6);
  });

  test('once a middleware is added to its client, every call goes through that middleware', async () => {
    const { engine, sdkCalls } = await fastEngine();
    await engine.set('which-3', { a: 1 }, inAnHour());
    const seen = countCommands(clientOf(engine));
    assert.deepEqual(await engine.get('which-3'), { a: 1 });
    await engine.destroy('which-3'); // a tombstone, and a look under the plain id
    assert.equal(seen.of('GetItemCommand'), 2);
    assert.equal(seen.of('PutItemCommand'), 1);
    assert.equal(sdkCalls.count, 3);
  });

  test('an engine given a client with a middleware of the app sends every call through it', async () => {
    const client = await localClient();
    const seen = countCommands(client);
    const engine = new SessionEngine({ client, tableName });
    await engine.set('which-2', { a: 1 }, inAnHour(), { loaded: null });
    await engine.get('which-2');
    assert.equal(seen.of('PutItemCommand'), 1);
    assert.equal(seen.of('GetItemCommand'), 1);
  });

  /** A login, a read, a touch and a logout: 6 calls (the logout also looks under the plain id). */
  async function session(engine: SessionEngine, id: string): Promise<void> {
    await engine.set(id, { a: 1 }, inAnHour(), { loaded: null });
    assert.deepEqual((await engine.load(id))?.data, { a: 1 });
    await engine.touch(id, inAnHour() - 600);
    await engine.destroy(id);
    assert.equal(await engine.get(id), null);
  }

  test('an engine given a plain client (only the SDK middleware) takes the direct path too', async () => {
    const client = await localClient();
    const runs = countStackRuns(client);
    const engine = new SessionEngine({ client, tableName });
    await session(engine, 'which-4');
    assert.equal(engine.stats().total.calls, 6);
    assert.equal(runs.count, 0);
    // a middleware added later sees every later call
    const seen = countCommands(client);
    await session(engine, 'which-5');
    assert.equal(seen.of(...Object.keys(seen.counts)), 6);
    assert.equal(runs.count, 6);
  });

  test("a client whose send an instrumentation wrapped gets every call through it, from the store's first or a later call", async () => {
    const client = await localClient();
    const runs = countStackRuns(client);
    const engine = new SessionEngine({ client, tableName });
    await session(engine, 'which-6');
    assert.equal(runs.count, 0);
    // what an APM agent's wrapper does: the SDK's own send inside
    const calls: string[] = [];
    const sdkSend = DynamoDBClient.prototype.send;
    client.send = function (this: DynamoDBClient, command: { constructor: { name: string } }) {
      calls.push(command.constructor.name);
      return Reflect.apply(sdkSend, this, [command]);
    } as unknown as typeof client.send;
    await session(engine, 'which-7');
    assert.equal(calls.length, 6);
    assert.equal(runs.count, 6);
    // a proxy or a bound function is a wrapper too
    client.send = sdkSend.bind(client) as typeof client.send;
    await engine.get('which-7');
    assert.equal(runs.count, 7);
    // the SDK's own again: the direct path again
    Reflect.deleteProperty(client, 'send');
    await engine.get('which-7');
    assert.equal(runs.count, 7);
  });

  test('a client with a logger gets every call through its stack, which logs each', async () => {
    const logged: unknown[] = [];
    const logger = { debug() {}, info: (entry: unknown) => logged.push(entry), warn() {}, error() {} };
    const own = new SessionEngine({ tableName, clientConfig: await localConfig({ logger }) });
    await session(own, 'which-8');
    assert.equal(logged.length, 6);
    const client = await localClient({ logger });
    const passed = new SessionEngine({ client, tableName });
    await session(passed, 'which-9');
    assert.equal(logged.length, 12);
  });
});

describe('data through the fast path', () => {
  const forms = {
    map: {},
    compressed: { compress: true },
    encrypted: { encryption: { key: randomBytes(32) } },
    'compressed and encrypted': { compress: { threshold: 10 }, encryption: { key: randomBytes(32) } },
  };
  for (const [form, options] of Object.entries(forms)) {
    test(`a ${form} session reads back as written`, async () => {
      const { engine, sdkCalls } = await fastEngine(options);
      const data = { user: 'ada ✓', roles: ['a', 'b'], text: 'x'.repeat(4000), n: 1.5, nested: { ok: true } };
      await engine.set(`form-${form}`, data, inAnHour());
      const fresh = (await fastEngine(options)).engine; // nothing cached: a real read
      assert.deepEqual(await fresh.get(`form-${form}`), data);
      // the same item read by the SDK: the bytes went over the wire as DynamoDB expects them
      const sdkEngine = new SessionEngine({ client: sdkClient, tableName, ...options });
      assert.deepEqual(await sdkEngine.get(`form-${form}`), data);
      assert.equal(sdkCalls.count, 0);
    });
  }

  test('every attribute type reads back exactly as the SDK reads it, binary as bytes, whichever path wrote it', async () => {
    const item: Record<string, AttributeValue> = {
      id: { S: 'types-1' },
      s: { S: 'é' },
      n: { N: '-1250.5' },
      b: { B: Uint8Array.from([0, 1, 254, 255]) },
      t: { BOOL: true },
      z: { NULL: true },
      ss: { SS: ['a', 'b'] },
      ns: { NS: ['1', '2'] },
      bs: { BS: [Uint8Array.from([1]), Uint8Array.from([2, 3])] },
      l: { L: [{ B: Uint8Array.from([9]) }, { M: { deep: { B: Uint8Array.from([7, 7]) } } }] },
      m: { M: { b: { B: Uint8Array.from([5]) }, s: { S: 'x' } } },
    };
    const bytes = (v: unknown): unknown =>
      v instanceof Uint8Array
        ? { bytes: [...v] }
        : Array.isArray(v)
          ? v.map(bytes)
          : v && typeof v === 'object'
            ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, bytes(x)]))
            : v;
    const fast = fastTransport(new DynamoDBClient(await localConfig()));
    const lean = sdkTransport(sdkClient, true);
    const sdk = sdkTransport(sdkClient, false);
    const input = { TableName: tableName, Key: { id: { S: 'types-1' } }, ConsistentRead: true };
    // written by each path in turn, read back by the SDK's own deserializer and by the other two
    for (const writer of [fast, lean, sdk]) {
      await sdk.deleteItem({ TableName: tableName, Key: input.Key });
      await writer.putItem({ TableName: tableName, Item: item });
      const viaSdk = await sdk.getItem(input);
      assert.deepEqual(bytes((await lean.getItem(input)).Item), bytes(viaSdk.Item));
      assert.deepEqual(bytes((await fast.getItem(input)).Item), bytes(viaSdk.Item));
      assert.deepEqual(bytes(viaSdk.Item), bytes(item));
    }
    const viaFast = await fast.getItem(input);
    const viaLean = await lean.getItem(input);
    assert.ok(viaFast.Item?.b?.B instanceof Uint8Array);
    assert.ok(viaLean.Item?.b?.B instanceof Uint8Array);
  });
});

describe('engine behaviour through the fast path', () => {
  test('touches are throttled and counted, with the same capacity units as through the SDK', async () => {
    const fast = (await fastEngine({ capacity: true })).engine;
    const viaSdk = new SessionEngine({ client: sdkClient, tableName, capacity: true });
    for (const [e, id] of [
      [fast, 'cap-fast'],
      [viaSdk, 'cap-sdk'],
    ] as const) {
      const expires = inAnHour();
      await e.set(id, { cart: 'y'.repeat(1500) }, expires);
      await e.get(id);
      await e.set(id, { cart: 'y'.repeat(1500) }, expires + 10); // unchanged, not due: no write
      await e.touch(id, expires - 100); // earlier: one UpdateItem
    }
    const a = fast.stats().operations;
    const b = viaSdk.stats().operations;
    assert.equal(a.UpdateItem?.calls, 1);
    assert.equal(a.PutItem?.calls, 1);
    assert.deepEqual(a, b);
    assert.ok((a.GetItem?.rcu ?? 0) > 0 && (a.PutItem?.wcu ?? 0) >= 2 && (a.UpdateItem?.wcu ?? 0) >= 1);
  });

  test('a session destroyed meanwhile is not written back by a save or a touch', async () => {
    const { engine } = await fastEngine();
    const other = (await fastEngine()).engine;
    await engine.set('gone-1', { a: 1 }, inAnHour());
    await engine.get('gone-1');
    await other.destroy('gone-1');
    await engine.touch('gone-1', inAnHour() - 900);
    await engine.set('gone-1', { a: 2 }, inAnHour());
    assert.equal(await other.get('gone-1'), null);
    const raw = await sdkClient.send(
      new GetItemCommand({
        TableName: tableName,
        Key: { id: { S: keyOf('gone-1') } },
        ConsistentRead: true,
      }),
    );
    assert.ok(raw.Item?.destroyed, 'the tombstone is still there');
    assert.equal(engine.stats().total.errors, 0);
  });

  test('a missing table is StoreUnavailableError, caused by the SDK class ResourceNotFoundException', async () => {
    const { engine } = await fastEngine({ tableName: 'no_such_table' });
    const err = await engine.get('x').then(
      () => assert.fail('no error'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof StoreUnavailableError);
    assert.ok(err.cause instanceof ResourceNotFoundException);
    assert.equal(err.cause.name, 'ResourceNotFoundException');
    assert.equal(err.cause.$metadata.httpStatusCode, 400);
    assert.equal(engine.stats().total.errors, 1);
  });

  test('a refused connection is StoreUnavailableError after the configured attempts', async () => {
    const port = await freePort();
    const { engine } = await fastEngine({
      clientConfig: await localConfig({ endpoint: `http://127.0.0.1:${port}`, maxAttempts: 2 }),
    });
    const err = await engine.get('x').then(
      () => assert.fail('no error'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof StoreUnavailableError);
    assert.equal((err.cause as { code?: string }).code, 'ECONNREFUSED');
    assert.equal((err.cause as { $metadata?: { attempts?: number } }).$metadata?.attempts, 2);
  });

  test('a server that never answers fails within the request timeout, each attempt counted', async () => {
    const sockets: Socket[] = [];
    const hung = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => hung.listen(0, '127.0.0.1', resolve));
    after(() => {
      for (const s of sockets) s.destroy();
      hung.close();
    });
    const { engine } = await fastEngine({
      clientConfig: await localConfig({
        endpoint: `http://127.0.0.1:${(hung.address() as AddressInfo).port}`,
        maxAttempts: 2,
        requestHandler: { connectionTimeout: 500, requestTimeout: 300, throwOnRequestTimeout: true },
      }),
    });
    const started = Date.now();
    const err = await engine.get('x').then(
      () => assert.fail('no error'),
      (e: unknown) => e,
    );
    const elapsed = Date.now() - started;
    assert.ok(err instanceof StoreUnavailableError);
    assert.equal((err.cause as Error).name, 'TimeoutError');
    assert.equal((err.cause as { $metadata?: { attempts?: number } }).$metadata?.attempts, 2);
    assert.equal(sockets.length, 2, 'one connection per attempt');
    assert.ok(elapsed >= 600 && elapsed < 3000, `took ${elapsed} ms`);
  });

  test('throttled twice, the read is retried and then succeeds', async () => {
    const writer = (await fastEngine()).engine;
    await writer.set('throttle-1', { a: 'ok' }, inAnHour());
    const server = await stub((n) => (n <= 2 ? { status: 400, body: throttled } : 'proxy'));
    const { engine } = await fastEngine({ clientConfig: await localConfig({ endpoint: server.url }) });
    assert.deepEqual(await engine.get('throttle-1'), { a: 'ok' });
    assert.equal(server.seen.length, 3);
    assert.deepEqual(
      server.seen.map((r) => r.headers['amz-sdk-request']),
      ['attempt=1; max=3', 'attempt=2; max=3', 'attempt=3; max=3'],
    );
    assert.deepEqual(engine.stats().operations.GetItem, {
      calls: 1,
      errors: 0,
      throttles: 0,
      rcu: 0,
      wcu: 0,
    });
  });

  test('always throttled, the call fails as throttled after the configured attempts', async () => {
    const server = await stub(() => ({ status: 400, body: throttled }));
    const { engine } = await fastEngine({
      clientConfig: await localConfig({ endpoint: server.url, maxAttempts: 2 }),
    });
    const err = await engine.set('throttle-2', { a: 1 }, undefined, { loaded: null }).then(
      () => assert.fail('no error'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof StoreUnavailableError);
    assert.equal(err.throttled, true);
    assert.equal((err.cause as Error).name, 'ProvisionedThroughputExceededException');
    assert.equal(server.seen.length, 2);
    assert.equal(engine.stats().operations.PutItem?.throttles, 1);
  });

  test('a condition failure is never retried', async () => {
    // the put's condition fails without the item; the engine then reads it (there is none)
    const server = await stub((_n, _body, headers) =>
      headers['x-amz-target'] === 'DynamoDB_20120810.PutItem'
        ? {
            status: 400,
            body: JSON.stringify({
              __type: 'com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException',
              message: 'The conditional request failed',
            }),
          }
        : { status: 200, body: '{}' },
    );
    const { engine } = await fastEngine({ clientConfig: await localConfig({ endpoint: server.url }) });
    await engine.set('cond-1', { a: 1 }, undefined, { loaded: null }); // refused: no error
    const puts = server.seen.filter((r) => r.headers['x-amz-target'] === 'DynamoDB_20120810.PutItem');
    assert.equal(puts.length, 1);
    assert.equal(engine.stats().total.errors, 0);
    assert.equal(engine.stats().skipped, 1);
  });
});

describe('signing', () => {
  test('requests carry the SDK headers and a valid SigV4 signature over them', async () => {
    const server = await stub(() => ({ status: 200, body: '{}' }));
    const config = await localConfig({ endpoint: server.url, region: 'eu-west-1' });
    const input = {
      TableName: 't',
      Key: { id: { S: 'sig' }, b: { B: Buffer.from('hi') } },
      ConsistentRead: true,
    };
    await new DynamoDBClient(config).send(new GetItemCommand(input));
    await fastTransport(new DynamoDBClient(config)).getItem(input);
    const [sdk, fast] = server.seen;
    assert.ok(sdk && fast);
    assert.equal(fast.body, sdk.body);
    for (const r of [sdk, fast]) {
      const signature = /Signature=([0-9a-f]{64})$/.exec(String(r.headers.authorization))?.[1];
      assert.equal(signature, expectedSignature(r.headers, r.body, 'local'));
      assert.match(
        String(r.headers.authorization),
        /Credential=local\/\d{8}\/eu-west-1\/dynamodb\/aws4_request/,
      );
    }
    const signedOf = (h: IncomingHttpHeaders) => /SignedHeaders=([^,]+)/.exec(String(h.authorization))?.[1];
    assert.equal(signedOf(fast.headers), signedOf(sdk.headers));
    for (const h of [
      'content-type',
      'x-amz-target',
      'host',
      'content-length',
      'x-amz-content-sha256',
      'x-amz-user-agent',
    ])
      assert.equal(fast.headers[h], sdk.headers[h], h);
    // the SDK's user agent, with this package's section where a command's own go
    assert.equal(fast.headers['user-agent'], `${sdk.headers['user-agent']} lib/dynamodb-sessions`);
  });

  test("headers an endpoint rule adds are sent and signed as the SDK sends them, values joined by ', '", async () => {
    const server = await stub(() => ({ status: 200, body: '{}' }));
    const config = await localConfig({ endpoint: server.url });
    const withHeaders = () => {
      const client = new DynamoDBClient(config);
      const rules = client.config.endpointProvider;
      client.config.endpointProvider = (params, context) => ({
        ...rules(params, context),
        headers: { 'x-route': ['blue', 'green'], 'X-Tenant': ['t1'] },
      });
      return client;
    };
    const input = { TableName: 't', Key: { id: { S: 'hdr' } } };
    await withHeaders().send(new GetItemCommand(input));
    await fastTransport(withHeaders()).getItem(input);
    const [sdk, fast] = server.seen;
    assert.ok(sdk && fast);
    assert.equal(sdk.headers['x-route'], 'blue, green');
    for (const h of ['x-route', 'x-tenant']) assert.equal(fast.headers[h], sdk.headers[h], h);
    const signedOf = (h: IncomingHttpHeaders) => /SignedHeaders=([^,]+)/.exec(String(h.authorization))?.[1];
    assert.match(String(signedOf(fast.headers)), /;x-route;x-tenant$/);
    assert.equal(signatureOf(fast.headers), expectedSignature(fast.headers, fast.body, 'local'));
  });

  test('expiring credentials are fetched again before they expire', async () => {
    const server = await stub(() => ({ status: 200, body: '{}' }));
    let fetched = 0;
    const provider = async () => {
      fetched++;
      // within the SDK's refresh window (5 minutes) from the start: refreshed on every use
      return {
        accessKeyId: `key${fetched}`,
        secretAccessKey: 'local',
        expiration: new Date(Date.now() + 60_000),
      };
    };
    const fast = fastTransport(
      new DynamoDBClient(await localConfig({ endpoint: server.url, credentials: provider })),
    );
    await fast.getItem({ TableName: 't', Key: { id: { S: 'a' } } });
    await fast.getItem({ TableName: 't', Key: { id: { S: 'a' } } });
    const keys = server.seen.map((r) => /Credential=(\w+)\//.exec(String(r.headers.authorization))?.[1]);
    assert.equal(keys.length, 2);
    assert.notEqual(keys[0], keys[1], 'the second request is signed with fresh credentials');
    for (const r of server.seen)
      assert.equal(signatureOf(r.headers), expectedSignature(r.headers, r.body, 'local'));
  });

  test('a request refused for clock skew is signed again with the server clock, once', async () => {
    const aheadMs = 3_600_000;
    const server = await stub((n) =>
      n === 1
        ? {
            status: 400,
            body: JSON.stringify({
              __type: 'com.amazon.coral.service#InvalidSignatureException',
              message: 'Signature expired: is now earlier than (... - 15 min.)',
            }),
            date: new Date(Date.now() + aheadMs).toUTCString(),
          }
        : { status: 200, body: '{}', date: new Date(Date.now() + aheadMs).toUTCString() },
    );
    const client = new DynamoDBClient(await localConfig({ endpoint: server.url }));
    await fastTransport(client).getItem({ TableName: 't', Key: { id: { S: 'a' } } });
    assert.equal(server.seen.length, 2);
    const dateOf = (i: number) => {
      const d = String(server.seen[i]?.headers['x-amz-date']);
      return Date.parse(
        `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 8)}T${d.slice(9, 11)}:${d.slice(11, 13)}:${d.slice(13, 15)}Z`,
      );
    };
    assert.ok(Math.abs(dateOf(1) - dateOf(0) - aheadMs) < 5_000, 'the retry is signed with the server time');
    assert.ok(Math.abs((client.config.systemClockOffset ?? 0) - aheadMs) < 5_000);
  });
});

test('an item written by the SDK with binary data is read back by the engine', async () => {
  const { engine } = await fastEngine({ compress: { threshold: 10 } });
  await engine.set('bin-1', { z: 'q'.repeat(300) }, inAnHour());
  const raw = await sdkClient.send(
    new GetItemCommand({ TableName: tableName, Key: { id: { S: keyOf('bin-1') } }, ConsistentRead: true }),
  );
  assert.ok(raw.Item?.sess?.B instanceof Uint8Array);
  await sdkClient.send(
    new PutItemCommand({ TableName: tableName, Item: { ...raw.Item, id: { S: keyOf('bin-2') } } }),
  );
  assert.deepEqual(await (await fastEngine({ compress: { threshold: 10 } })).engine.get('bin-2'), {
    z: 'q'.repeat(300),
  });
});
