/**
 * Where a request's CPU goes, piece by piece, in one process (no HTTP server): the SDK call alone,
 * the engine's load and save through the SDK's middleware stack (a client with a middleware of the
 * app's given to it) and through its own client (item calls signed and sent without the stack) with
 * and without OpenTelemetry, its unchanged-save path, and the codec steps. CPU µs per operation from
 * `process.cpuUsage()`, best of 3 rounds, on a DynamoDB Local started here.
 * Usage: tsx bench/micro.ts [--ops N]
 */
import { parseArgs } from 'node:util';
import { DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { startDynamoDBLocal } from '../dev/dynamodb-local.ts';
import { engineInternals, engineOn } from '../src/engine.ts';
import { hashOfId } from '../src/format/keys.ts';
import { decodeData, marshalMap, unmarshalMap } from '../src/format/marshal.ts';
import { toPlain } from '../src/format/plain.ts';
import { createTable, SessionEngine } from '../src/index.ts';
import { setOtelApiForTests } from '../src/transport/otel.ts';
import { sessionData } from './workload.ts';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const { values } = parseArgs({ options: { ops: { type: 'string', default: '2000' } } });
const ops = Number(values.ops);
if (!Number.isInteger(ops) || ops < 10) throw new Error(`--ops must be an integer >= 10, got ${values.ops}`);

/** CPU µs per call of `fn`, `concurrency` calls in flight, best of 3 rounds after a warm-up. */
async function cpuPerOp(fn: (i: number) => unknown, concurrency = 8): Promise<number> {
  const round = async (n: number): Promise<number> => {
    const start = process.cpuUsage();
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < n) await fn(next++);
      }),
    );
    const used = process.cpuUsage(start);
    return (used.user + used.system) / n;
  };
  await round(Math.min(ops, 1000));
  const results = [await round(ops), await round(ops), await round(ops)];
  return Math.min(...results);
}

const ddb = await startDynamoDBLocal();
try {
  const clientConfig = {
    region: 'us-east-1',
    endpoint: ddb.endpoint,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  };
  const client = new DynamoDBClient(clientConfig);
  const tableName = 'micro';
  await createTable(client, { tableName });
  const cookie = { originalMaxAge: 86_400_000, httpOnly: true, path: '/' };
  const data = { cookie, ...sessionData(1, 2048) } as Record<string, unknown>;
  const expires = Math.floor(Date.now() / 1000) + 86_400;
  const plain = toPlain(data) as { [k: string]: never };
  await client.send(
    new PutItemCommand({
      TableName: tableName,
      Item: { id: { S: 'string' }, sess: { S: JSON.stringify(data) }, expires: { N: String(expires) } },
    }),
  );
  await client.send(
    new PutItemCommand({
      TableName: tableName,
      Item: { id: { S: 'map' }, sess: { M: marshalMap(plain) }, expires: { N: String(expires) } },
    }),
  );
  // given a client with a middleware of the app's, the engine sends through its middleware stack;
  // without one, it makes its own client (the default client configuration) and sends its item
  // calls without the stack, as it does with a plain client passed in
  const stackedClient = new DynamoDBClient(clientConfig);
  stackedClient.middlewareStack.add((next) => (args) => next(args), { step: 'initialize', name: 'app' });
  const stacked = new SessionEngine({ client: stackedClient, tableName, prefix: '' });
  const own = new SessionEngine({ clientConfig, tableName, prefix: '' });
  const ownClient = engineInternals(own).client as DynamoDBClient;
  const json = new SessionEngine({ clientConfig, tableName, prefix: 'json#', serializer: JSON });
  await own.set('engine', data, expires);
  await json.set('engine', data, expires);
  const got = await client.send(new GetItemCommand({ TableName: tableName, Key: { id: { S: 'map' } } }));
  const mapAv = got.Item?.sess?.M ?? {};

  const rows: [string, number][] = [];
  const measure = async (name: string, fn: (i: number) => unknown, concurrency?: number): Promise<void> => {
    const us = await cpuPerOp(fn, concurrency);
    rows.push([name, us]);
    process.stderr.write(`${name}: ${us.toFixed(1)} µs\n`);
  };
  const getWith = (c: DynamoDBClient, id: string) => () =>
    c.send(new GetItemCommand({ TableName: tableName, Key: { id: { S: id } } }));
  await measure('SDK GetItem, data as a JSON string (S) + JSON.parse', async () => {
    const out = await getWith(client, 'string')();
    return JSON.parse(out.Item?.sess?.S ?? '{}');
  });
  await measure('SDK GetItem, data as a map (M)', getWith(client, 'map'));
  await measure('SDK GetItem (M), client with cacheMiddleware: true', getWith(ownClient, 'map'));
  await measure('engine.load through the SDK stack (a client with middleware)', () => stacked.load('engine'));
  await measure('engine.load, its own client (no stack)', () => own.load('engine'));
  await measure('engine.load, its own client, serializer: JSON', () => json.load('engine'));
  // every save changes the data over the version the previous one wrote, so each one is one PutItem
  const changed = (i: number): Record<string, unknown> => ({ ...data, visits: i });
  for (const [label, engine, id] of [
    [
      'engine.set changed (PutItem) through the SDK stack (a client with middleware)',
      stacked,
      'engine-stacked',
    ],
    ['engine.set changed (PutItem), its own client (no stack)', own, 'engine-own'],
  ] as const) {
    let last = await engine.set(id, data, expires, { loaded: null });
    // one at a time: concurrent saves of one session would conflict, which is another measure
    await measure(
      label,
      async (i) => {
        last = await engine.set(id, changed(i), expires, { loaded: last });
      },
      1,
    );
  }
  // OpenTelemetry: not installed (as the API is not looked for again), installed without a tracer
  // provider, and a provider registered that records every span (in memory)
  setOtelApiForTests(null);
  await measure('engine.load, its own client, no @opentelemetry/api in the app', () => own.load('engine'));
  setOtelApiForTests(undefined);
  await measure('engine.load, its own client, @opentelemetry/api, no tracer provider', () =>
    own.load('engine'),
  );
  const otel = await import('@opentelemetry/sdk-trace-node');
  const provider = new otel.NodeTracerProvider({
    spanProcessors: [new otel.SimpleSpanProcessor(new otel.InMemorySpanExporter())],
  });
  provider.register();
  await measure('engine.load, its own client, a tracer provider recording every span', () =>
    own.load('engine'),
  );
  await provider.shutdown();
  const loaded = await own.load('engine');
  if (!loaded) throw new Error('the session saved above is missing');
  await measure(
    'engine.set unchanged, inside touchAfter (no call)',
    () => own.set('engine', loaded.data, expires, { loaded }),
    1,
  );
  // the engine alone, on an answer already parsed (no transport): what it adds on either path
  const answer = JSON.stringify(
    await client.send(
      new GetItemCommand({
        TableName: tableName,
        Key: { id: { S: hashOfId('engine') } },
        ConsistentRead: true,
      }),
    ),
  );
  const none = async () => ({});
  const alone = engineOn(
    {
      getItem: async () => JSON.parse(answer),
      putItem: none,
      updateItem: none,
      deleteItem: none,
      query: async () => ({}),
      batchGetItem: async () => ({}),
    },
    { tableName, prefix: '' },
  );
  await measure("JSON.parse of that GetItem answer (the part not the engine's)", () => JSON.parse(answer), 1);
  await measure('engine alone: load (the answer parsed, then read back)', () => alone.load('engine'), 1);
  const aloneLoaded = await alone.load('engine');
  if (!aloneLoaded) throw new Error('no session in the answer');
  await measure(
    'engine alone: set unchanged (what a touch does before deciding)',
    () => alone.set('engine', aloneLoaded.data, expires, { loaded: aloneLoaded }),
    1,
  );
  await measure('codec: toPlain', () => toPlain(data), 1);
  await measure('codec: JSON.stringify(plain)', () => JSON.stringify(plain), 1);
  await measure('codec: unmarshalMap (map -> plain, sorted)', () => unmarshalMap(mapAv, 'sess'), 1);
  await measure('codec: decodeData of the map', () => decodeData({ M: mapAv }, 'sess'), 1);
  await measure('codec: marshalMap (plain -> map)', () => marshalMap(plain), 1);
  console.log('| Piece | CPU µs per op |\n|---|--:|');
  for (const [name, us] of rows) console.log(`| ${name} | ${us.toFixed(1)} |`);
  for (const c of [client, stackedClient]) c.destroy();
  for (const e of [own, json]) e.close();
} finally {
  await ddb.stop();
}
