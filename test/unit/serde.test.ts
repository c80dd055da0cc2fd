/**
 * The lean JSON of the SDK path (`src/transport/serde.ts`) against the SDK's own serializer and
 * deserializer, on one client: the same bytes on the wire for each item call, the same output for
 * each answer, the same exception for each error answer. A loopback HTTP server answers what it is
 * told to; no DynamoDB behaviour is claimed here (the integration tier reads and writes DynamoDB
 * Local through both).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { DynamoDBClient, type DynamoDBClientConfig, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { sdkTransport } from '../../src/transport/sdk.ts';
import type { TableTransport } from '../../src/transport/types.ts';

interface Answer {
  status: number;
  headers?: Record<string, string>;
  body: string;
}

interface Seen {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

let answer: Answer = { status: 200, body: '{}' };
const seen: Seen[] = [];
const server = createServer((req: IncomingMessage, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    seen.push({
      method: String(req.method),
      url: String(req.url),
      headers: req.headers,
      body: Buffer.concat(chunks).toString('utf8'),
    });
    res.writeHead(answer.status, {
      'content-type': 'application/x-amz-json-1.0',
      'x-amzn-requestid': 'REQ-1',
      ...answer.headers,
    });
    res.end(answer.body);
  });
});
let client: DynamoDBClient;
let lean: TableTransport;
let sdk: TableTransport;

/** A client of the loopback server, one attempt per call. */
function loopbackClient(extra: DynamoDBClientConfig = {}): DynamoDBClient {
  const { port } = server.address() as AddressInfo;
  return new DynamoDBClient({
    region: 'eu-west-1',
    endpoint: `http://127.0.0.1:${port}`,
    credentials: { accessKeyId: 'AKID', secretAccessKey: 'secret' },
    maxAttempts: 1,
    ...extra,
  });
}

type SerdeCounts = { serializeRequest: number; deserializeResponse: number };

/** Counts the calls of the SDK's own serde (its protocol's); `restore` puts the protocol back. */
function countSerde(c: DynamoDBClient): { counts: SerdeCounts; restore(): void } {
  const protocol = c.config.protocol as unknown as Record<string, (...args: unknown[]) => unknown>;
  const counts: SerdeCounts = { serializeRequest: 0, deserializeResponse: 0 };
  const originals = new Map<keyof SerdeCounts, (...args: unknown[]) => unknown>();
  for (const name of Object.keys(counts) as (keyof SerdeCounts)[]) {
    const original = protocol[name] as (...args: unknown[]) => unknown;
    originals.set(name, original);
    protocol[name] = function (this: unknown, ...args: unknown[]) {
      counts[name]++;
      return original.apply(this, args);
    };
  }
  return { counts, restore: () => Object.assign(protocol, Object.fromEntries(originals)) };
}

before(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  client = loopbackClient({
    endpoint: `http://127.0.0.1:${port}/base`,
    credentials: { accessKeyId: 'AKID', secretAccessKey: 'secret', sessionToken: 'token' },
  });
  lean = sdkTransport(client, true);
  sdk = sdkTransport(client, false);
});
after(() => {
  client.destroy();
  server.close();
});

/** A request without what differs on every call (the invocation id, the time and the signature over them). */
function stable(s: Seen): Seen {
  const { 'amz-sdk-invocation-id': _id, 'x-amz-date': _date, authorization, ...headers } = s.headers;
  const signed = /SignedHeaders=([^,]+)/.exec(String(authorization))?.[1];
  return { ...s, headers: { ...headers, signed } };
}

const bytes = Uint8Array.from([0, 1, 2, 250, 255]);
const calls: [keyof TableTransport, Record<string, unknown>][] = [
  [
    'getItem',
    { TableName: 't', Key: { id: { S: 'k' } }, ConsistentRead: false, ReturnConsumedCapacity: 'TOTAL' },
  ],
  [
    'putItem',
    {
      TableName: 't',
      Item: {
        id: { S: 'k ✓ "quoted"' },
        sess: { M: { a: { L: [{ N: '1.5' }, { B: bytes }, { NULL: true }] }, b: { BOOL: false } } },
        blob: { B: bytes },
        set: { BS: [bytes, Uint8Array.from([7])] },
        names: { SS: ['x', 'y'] },
      },
      ConditionExpression: 'attribute_not_exists(#k)',
      ExpressionAttributeNames: { '#k': 'id' },
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    },
  ],
  [
    'updateItem',
    {
      TableName: 't',
      Key: { id: { S: 'k' } },
      UpdateExpression: 'SET #e = :e',
      ConditionExpression: '#v = :v',
      ExpressionAttributeNames: { '#e': 'expires', '#v': 'ver' },
      ExpressionAttributeValues: { ':e': { N: '1900000000' }, ':v': { N: '3' } },
      ReturnValues: 'ALL_OLD',
    },
  ],
  ['deleteItem', { TableName: 't', Key: { id: { S: 'k' } }, ReturnValues: 'ALL_OLD' }],
];

/** The call through one transport: what went on the wire and what came back (or was thrown). */
async function through(
  transport: TableTransport,
  op: keyof TableTransport,
  input: Record<string, unknown>,
): Promise<{ request: Seen; result: unknown }> {
  seen.length = 0;
  const send = transport[op] as (i: unknown) => Promise<unknown>;
  const result = await send(input).catch((err: unknown) => ({ thrown: err }));
  const [request] = seen;
  assert.ok(request, 'a request reached the server');
  return { request: stable(request), result };
}

/** An error as the caller sees it: its class, name, message, fault, metadata and modeled members. */
function errorView(value: unknown): unknown {
  const err = (value as { thrown?: unknown }).thrown;
  if (!(err instanceof Error)) return { notThrown: value };
  const own = Object.fromEntries(Object.entries(err).filter(([k]) => k !== '$response'));
  return { class: err.constructor.name, name: err.name, message: err.message, ...own };
}

describe('lean JSON on the SDK path', () => {
  for (const [op, input] of calls) {
    test(`${op}: the same request as the SDK's serializer sends, to the endpoint's path`, async () => {
      answer = { status: 200, body: '{}' };
      const viaLean = await through(lean, op, input);
      const viaSdk = await through(sdk, op, input);
      // the same JSON: the SDK writes members in its schema's order, the store in the input's
      const { body: leanBody, headers: leanHeaders, ...leanRest } = viaLean.request;
      const { body: sdkBody, headers: sdkHeaders, ...sdkRest } = viaSdk.request;
      assert.deepEqual(JSON.parse(leanBody), JSON.parse(sdkBody));
      assert.deepEqual(leanRest, sdkRest);
      const { 'x-amz-content-sha256': leanHash, ...leanOther } = leanHeaders;
      const { 'x-amz-content-sha256': sdkHash, ...sdkOther } = sdkHeaders;
      assert.deepEqual(leanOther, sdkOther);
      // each the hash of its own body (what the signature covers)
      assert.equal(leanHash, createHash('sha256').update(leanBody).digest('hex'));
      assert.equal(sdkHash, createHash('sha256').update(sdkBody).digest('hex'));
      assert.equal(viaLean.request.url, '/base/');
      assert.equal(
        viaLean.request.headers['x-amz-target'],
        `DynamoDB_20120810.${op[0]?.toUpperCase()}${op.slice(1)}`,
      );
      // the body is the input's JSON, binary values in base64
      const body = JSON.parse(viaLean.request.body) as Record<string, unknown>;
      assert.equal(body.TableName, 't');
    });
  }

  test('a successful answer reads back as the SDK reads it: binary as bytes, numbers as strings, metadata', async () => {
    const item = {
      id: { S: 'k' },
      sess: { M: { a: { L: [{ N: '1.5' }, { B: 'AAEC+v8=' }] }, s: { S: '"B":"x"' } } },
      blob: { B: 'AAEC+v8=' },
      set: { BS: ['AAEC+v8=', 'Bw=='] },
    };
    answer = {
      status: 200,
      body: JSON.stringify({ Item: item, ConsumedCapacity: { TableName: 't', CapacityUnits: 0.5 } }),
    };
    const viaLean = await through(lean, 'getItem', calls[0]?.[1] ?? {});
    const viaSdk = await through(sdk, 'getItem', calls[0]?.[1] ?? {});
    assert.deepEqual(viaLean.result, viaSdk.result);
    const out = viaLean.result as {
      Item: Record<string, { B?: unknown }>;
      $metadata: { requestId?: string };
    };
    const blob = out.Item.blob?.B;
    assert.ok(blob instanceof Uint8Array);
    assert.deepEqual([...blob], [0, 1, 2, 250, 255]);
    assert.equal(out.$metadata.requestId, 'REQ-1');
  });

  const errors: [string, Answer][] = [
    [
      'a failed condition with the item it found',
      {
        status: 400,
        body: JSON.stringify({
          __type: 'com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException',
          message: 'The conditional request failed',
          Item: { id: { S: 'k' }, blob: { B: 'AAEC+v8=' }, ver: { N: '4' } },
        }),
      },
    ],
    [
      'throttling',
      {
        status: 400,
        body: JSON.stringify({
          __type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException',
          message: 'Rate exceeded',
        }),
      },
    ],
    [
      'a missing table',
      {
        status: 400,
        headers: { 'x-amzn-errortype': 'ResourceNotFoundException:' },
        body: JSON.stringify({ message: 'Requested resource not found' }),
      },
    ],
    ['a 429 without an error type', { status: 429, body: '' }],
    ['a 500 whose body is not JSON', { status: 500, body: '<html>bad gateway</html>' }],
    ['a 200 whose body is not JSON', { status: 200, body: '<html>captive portal</html>' }],
  ];
  for (const [what, given] of errors) {
    test(`${what}: the same exception as the SDK's deserializer throws`, async () => {
      answer = given;
      const viaLean = errorView((await through(lean, 'putItem', calls[1]?.[1] ?? {})).result);
      const viaSdk = errorView((await through(sdk, 'putItem', calls[1]?.[1] ?? {})).result);
      assert.notEqual((viaLean as { class?: string }).class, undefined, 'it threw');
      assert.deepEqual(viaLean, viaSdk);
    });
  }

  test("the item calls skip the protocol's schema serde on success; errors and other commands use it", async () => {
    const { counts, restore } = countSerde(client);
    try {
      answer = { status: 200, body: JSON.stringify({ Item: { id: { S: 'k' } } }) };
      for (const [op, input] of calls) await through(lean, op, input);
      assert.deepEqual(counts, { serializeRequest: 0, deserializeResponse: 0 });
      await through(sdk, 'getItem', calls[0]?.[1] ?? {});
      assert.deepEqual(counts, { serializeRequest: 1, deserializeResponse: 1 });
      // an error answer is read by the SDK's deserializer
      answer = { status: 400, body: JSON.stringify({ __type: 'ValidationException', message: 'no' }) };
      await through(lean, 'getItem', calls[0]?.[1] ?? {});
      assert.deepEqual(counts, { serializeRequest: 1, deserializeResponse: 2 });
      // the app's own commands on the same client keep the SDK's serde
      answer = { status: 200, body: JSON.stringify({ Item: { id: { S: 'k' } } }) };
      const own = await client.send(new GetItemCommand({ TableName: 't', Key: { id: { S: 'k' } } }));
      assert.deepEqual(own.Item, { id: { S: 'k' } });
      assert.deepEqual(counts, { serializeRequest: 2, deserializeResponse: 3 });
    } finally {
      restore();
    }
  });
});

describe('lean JSON fails safe', () => {
  test('a request type of another shape: the call and the later ones use the SDK serializer, and succeed', async () => {
    const broken = loopbackClient();
    const protocol = broken.config.protocol as unknown as Record<string, unknown>;
    const original = protocol.getRequestType as () => new (o: object) => unknown;
    let made = 0;
    // what a later SDK might change: the request class refuses what the lean serializer gives it
    protocol.getRequestType = () =>
      class {
        constructor() {
          made++;
          throw new TypeError('another shape');
        }
      };
    const transport = sdkTransport(broken, true);
    protocol.getRequestType = original;
    const { counts } = countSerde(broken);
    try {
      answer = { status: 200, body: JSON.stringify({ Item: { id: { S: 'k' } } }) };
      const input = { TableName: 't', Key: { id: { S: 'k' } } };
      assert.deepEqual((await transport.getItem(input)).Item, { id: { S: 'k' } });
      assert.deepEqual((await transport.getItem(input)).Item, { id: { S: 'k' } });
      assert.equal(made, 1, 'the lean serializer was tried once');
      assert.equal(counts.serializeRequest, 2, 'both calls were serialized by the SDK');
    } finally {
      broken.destroy();
    }
  });

  test('a client whose protocol is not AWS JSON 1.0 keeps the SDK serde for every call', async () => {
    const other = loopbackClient();
    const protocol = other.config.protocol as unknown as Record<string, unknown>;
    const shape = protocol.getShapeId as () => string;
    protocol.getShapeId = () => 'smithy.protocols#rpcv2Cbor';
    const transport = sdkTransport(other, true);
    protocol.getShapeId = shape;
    const { counts } = countSerde(other);
    try {
      answer = { status: 200, body: JSON.stringify({ Item: { id: { S: 'k' } } }) };
      await transport.getItem({ TableName: 't', Key: { id: { S: 'k' } } });
      assert.equal(counts.deserializeResponse, 1);
    } finally {
      other.destroy();
    }
  });
});

test("a client that caches its middleware per command class: the app's own commands never get the store's JSON", async () => {
  const cached = loopbackClient({ cacheMiddleware: true });
  const { counts } = countSerde(cached);
  try {
    answer = { status: 200, body: JSON.stringify({ Item: { id: { S: 'k' } } }) };
    const input = { TableName: 't', Key: { id: { S: 'k' } } };
    // the store's call first: the client caches the handler it resolves for GetItemCommand
    await sdkTransport(cached, true).getItem(input);
    await cached.send(new GetItemCommand(input));
    assert.equal(counts.deserializeResponse, 2, "both read by the SDK's deserializer");
  } finally {
    cached.destroy();
  }
});

test('a client that is only a send (a test double) gets the SDK commands as they are', async () => {
  const sent: unknown[] = [];
  const double = {
    send: async (command: unknown) => {
      sent.push(command);
      return { Item: { id: { S: 'k' } }, $metadata: {} };
    },
  } as unknown as DynamoDBClient;
  const out = await sdkTransport(double, true).getItem({ TableName: 't', Key: { id: { S: 'k' } } });
  assert.deepEqual(out.Item, { id: { S: 'k' } });
  assert.ok(sent[0] instanceof GetItemCommand);
  assert.deepEqual((sent[0] as GetItemCommand).input, { TableName: 't', Key: { id: { S: 'k' } } });
});
