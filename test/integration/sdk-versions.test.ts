/**
 * The direct path against the client's own `send`, on the oldest `@aws-sdk/client-dynamodb` the
 * package accepts (the devDependency `client-dynamodb-oldest`) and on the newest (the one installed):
 * each client is built from its own package, so its signer, retry strategy, endpoint rules and
 * protocol are that version's. A recording request handler answers in memory (no network) and the
 * clock is fixed, so the two paths' requests can be compared header by header and signature by
 * signature. The store over each client then reads and writes DynamoDB Local.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { after, describe, type TestContext, test } from 'node:test';
import * as newest from '@aws-sdk/client-dynamodb';
import * as oldest from 'client-dynamodb-oldest';
import { SessionEngine } from '../../src/index.ts';
import { directTransport } from '../../src/transport/direct.ts';
import type { TableTransport } from '../../src/transport/types.ts';
import { freshTable, localConfig } from './helpers.ts';
import { countStackRuns, expectedSignature } from './signing.ts';

type Sdk = typeof newest;
type Client = InstanceType<Sdk['DynamoDBClient']>;
type Config = newest.DynamoDBClientConfig;
type Op = 'GetItem' | 'PutItem' | 'UpdateItem' | 'DeleteItem';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
const versionOf = (name: string): string =>
  (
    JSON.parse(readFileSync(new URL(`../../node_modules/${name}/package.json`, import.meta.url), 'utf8')) as {
      version: string;
    }
  ).version;

const sdks: [string, Sdk][] = [
  [`oldest (${versionOf('client-dynamodb-oldest')})`, oldest as unknown as Sdk],
  [`newest (${versionOf('@aws-sdk/client-dynamodb')})`, newest],
];

const fixedNow = Date.parse('2026-11-30T23:59:59.250Z');
const credentials = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG',
  sessionToken: 'tok/en=',
};

interface Answer {
  status: number;
  headers?: Record<string, string>;
  body: string;
}
interface Seen {
  method: string;
  hostname: string;
  port: number | undefined;
  path: string;
  query: unknown;
  headers: Record<string, string>;
  body: string;
}

/** A request handler that records each request and answers from `answers` (the last one again once they run out). */
function recorder(answers: Answer[] = [{ status: 200, body: '{}' }]) {
  const seen: Seen[] = [];
  const handler = {
    async handle(request: Omit<Seen, 'body'> & { body?: unknown }) {
      const body = request.body;
      seen.push({
        method: request.method,
        hostname: request.hostname,
        port: request.port,
        path: request.path,
        query: { ...(request.query as object) },
        headers: { ...request.headers },
        body: typeof body === 'string' ? body : body ? Buffer.from(body as Uint8Array).toString('utf8') : '',
      });
      const a = answers[Math.min(seen.length, answers.length) - 1] ?? { status: 200, body: '{}' };
      const headers = {
        'content-type': 'application/x-amz-json-1.0',
        'x-amzn-requestid': `R${seen.length}`,
        ...a.headers,
      };
      return { response: { statusCode: a.status, headers, body: Readable.from([Buffer.from(a.body)]) } };
    },
    updateHttpClientConfig() {},
    httpHandlerConfigs: () => ({}),
    destroy() {},
  };
  return { seen, handler };
}

/** Two clients of one SDK with the same settings, each with its own recorder: one for `send`, one for the direct path. */
function pair(sdk: Sdk, config: Config, answers?: Answer[]) {
  const viaSend = recorder(answers);
  const viaDirect = recorder(answers);
  const make = (handler: unknown) =>
    new sdk.DynamoDBClient({
      region: 'eu-west-1',
      credentials,
      ...config,
      requestHandler: handler as NonNullable<Config['requestHandler']>,
    });
  const sendClient = make(viaSend.handler);
  const directClient = make(viaDirect.handler);
  // the calls that went through the direct client's send
  const stackRuns = countStackRuns(directClient);
  return {
    sendClient,
    sent: viaSend.seen,
    direct: directTransport(directClient as unknown as Client),
    seen: viaDirect.seen,
    directClient,
    stackRuns,
  };
}

const commandOf = (sdk: Sdk, op: Op) => sdk[`${op}Command`] as unknown as new (input: object) => object;
const methodOf = (op: Op) => `${op[0]?.toLowerCase()}${op.slice(1)}` as keyof TableTransport;
async function viaSend(client: Client, sdk: Sdk, op: Op, input: object): Promise<unknown> {
  return (client.send as (c: object) => Promise<unknown>)(new (commandOf(sdk, op))(input));
}
async function viaDirect(transport: TableTransport, op: Op, input: object): Promise<unknown> {
  return (transport[methodOf(op)] as (i: object) => Promise<unknown>)(input);
}

/** What may differ between the two paths' requests: the invocation id, and the user agent, which names the store. */
function comparable(r: Seen) {
  const {
    'amz-sdk-invocation-id': _id,
    authorization,
    'user-agent': _ua,
    'x-amz-user-agent': _xua,
    'x-amz-content-sha256': _hash,
    ...headers
  } = r.headers;
  const [, scope, signed] =
    /Credential=[^/]+\/([^,]+), SignedHeaders=([^,]+),/.exec(String(authorization)) ?? [];
  return {
    method: r.method,
    hostname: r.hostname,
    port: r.port,
    path: r.path,
    query: r.query,
    headers,
    scope,
    signed,
    json: JSON.parse(r.body) as unknown,
  };
}

/** Checks one pair of requests: the same request but for the user agent, each body's hash and signature its own. */
async function assertSame(sdkRequest: Seen, directRequest: Seen, directClient: Client): Promise<void> {
  const a = comparable(sdkRequest);
  const b = comparable(directRequest);
  // the SDK also signs x-amz-user-agent; the direct path signs it too where it sends it
  if (!('x-amz-user-agent' in directRequest.headers)) a.signed = a.signed?.replace(';x-amz-user-agent', '');
  else assert.equal(directRequest.headers['x-amz-user-agent'], sdkRequest.headers['x-amz-user-agent']);
  assert.deepEqual(b, a);
  // the user agent's first part is the client's own version
  assert.equal(
    directRequest.headers['user-agent']?.split(' ')[0],
    sdkRequest.headers['user-agent']?.split(' ')[0],
  );
  for (const r of [sdkRequest, directRequest])
    assert.equal(r.headers['x-amz-content-sha256'], createHash('sha256').update(r.body).digest('hex'));
  // the direct path's signature is exactly the one the client's own SignatureV4 makes for its request
  const { authorization, 'x-amz-date': date, ...unsigned } = directRequest.headers;
  const signer = await directClient.config.signer();
  const signed = await signer.sign(
    { ...directRequest, headers: unsigned, protocol: 'https:' } as Parameters<typeof signer.sign>[0],
    {
      signingDate: new Date(fixedNow),
      signingRegion: a.scope?.split('/')[1] ?? '',
      signingService: 'dynamodb',
    },
  );
  assert.equal(date, '20261130T235959Z');
  assert.equal(authorization, signed.headers.authorization);
  if (directRequest.path === '/' && Object.keys(directRequest.query as object).length === 0)
    assert.equal(
      /Signature=(\w+)$/.exec(String(authorization))?.[1],
      expectedSignature(directRequest.headers, directRequest.body, credentials.secretAccessKey),
    );
}

/** A small deterministic generator (mulberry32), so a failure can be run again as it was. */
function generator(seed: number) {
  let s = seed >>> 0;
  const next = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)] as T;
  const text = () =>
    Array.from({ length: int(24) }, () =>
      pick(['a', 'Z', '0', ' ', '"', '\\', 'é', '✓', '😀', '\n', '/', '+', '=']),
    ).join('');
  const id = () => Buffer.from(Array.from({ length: 24 }, () => int(256))).toString('base64url');
  const value = (depth: number): newest.AttributeValue => {
    switch (int(depth > 2 ? 4 : 7)) {
      case 0:
        return { S: text() };
      case 1:
        return { N: String(int(2_000_000) - 1_000_000) + (int(2) ? `.${int(1000)}` : '') };
      case 2:
        return { B: Uint8Array.from(Array.from({ length: int(40) }, () => int(256))) };
      case 3:
        return { BOOL: int(2) === 1 };
      case 4:
        return { L: Array.from({ length: int(4) }, () => value(depth + 1)) };
      case 5:
        return { SS: [...new Set(Array.from({ length: 1 + int(3) }, text))] };
      default:
        return {
          M: Object.fromEntries(Array.from({ length: int(4) }, () => [text() || 'k', value(depth + 1)])),
        };
    }
  };
  const table = () => pick(['sessions', 'app.sessions-prod_2', `t_${int(1e6)}`]);
  const key = () => ({ id: { S: pick(['', 'sess:', 'app1#']) + id() } });
  const inputs: Record<Op, () => object> = {
    GetItem: () => ({
      TableName: table(),
      Key: key(),
      ConsistentRead: int(2) === 1,
      ReturnConsumedCapacity: pick(['TOTAL', 'NONE']),
    }),
    PutItem: () => ({
      TableName: table(),
      Item: {
        ...key(),
        expires: { N: String(1_800_000_000 + int(1e6)) },
        sess: value(0),
        ver: { N: String(int(9)) },
      },
      ConditionExpression: 'attribute_not_exists(#id) OR #v = :v',
      ExpressionAttributeNames: { '#id': 'id', '#v': 'ver' },
      ExpressionAttributeValues: { ':v': { N: String(int(9)) } },
    }),
    UpdateItem: () => ({
      TableName: table(),
      Key: key(),
      UpdateExpression: 'SET #e = :e',
      ConditionExpression: 'attribute_exists(#id)',
      ExpressionAttributeNames: { '#e': 'expires', '#id': 'id' },
      ExpressionAttributeValues: { ':e': { N: String(1_800_000_000 + int(1e6)) } },
    }),
    DeleteItem: () => ({ TableName: table(), Key: key(), ReturnValues: pick(['NONE', 'ALL_OLD']) }),
  };
  return { pick, inputs };
}

/**
 * A client of the installed SDK takes the direct path. A client of the other copy in this process
 * (an app has one) takes it too, or `send` for every call: the requests compared are then send's.
 */
function assertPath(t: TestContext, sdk: Sdk, viaSend: number, calls: number): void {
  if (sdk === newest) assert.equal(viaSend, 0, 'every call took the direct path');
  else assert.ok(viaSend === 0 || viaSend === calls, `${viaSend} of ${calls} calls through send`);
  t.diagnostic(`${viaSend} of ${calls} calls through send`);
}

const ops: Op[] = ['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem'];

for (const [label, sdk] of sdks) {
  describe(`@aws-sdk/client-dynamodb ${label}`, () => {
    test('signing with a fixed clock: 400 randomized item calls, each the request send makes, signed as its SignatureV4 signs it', async (t) => {
      t.mock.timers.enable({ apis: ['Date'], now: fixedNow });
      const { sendClient, sent, direct, seen, directClient, stackRuns } = pair(sdk, {});
      const { pick, inputs } = generator(label.length * 7919);
      for (let i = 0; i < 400; i++) {
        const op = pick(ops);
        const input = inputs[op]();
        await viaSend(sendClient, sdk, op, input);
        await viaDirect(direct, op, input);
      }
      assert.equal(sent.length, 400);
      assert.equal(seen.length, 400);
      assertPath(t, sdk, stackRuns.count, 400);
      for (let i = 0; i < 400; i++) await assertSame(sent[i] as Seen, seen[i] as Seen, directClient);
    });

    const endpoints: Record<string, { config: Config; tableName?: string; host: RegExp }> = {
      'a FIPS endpoint': {
        config: { region: 'us-east-1', useFipsEndpoint: true },
        host: /^dynamodb-fips\.us-east-1\.amazonaws\.com$/,
      },
      'a dual-stack endpoint': {
        config: { region: 'eu-west-1', useDualstackEndpoint: true },
        host: /^dynamodb\.eu-west-1\.api\.aws$/,
      },
      'a China region': {
        config: { region: 'cn-north-1' },
        host: /^dynamodb\.cn-north-1\.amazonaws\.com\.cn$/,
      },
      'a GovCloud region with FIPS': {
        config: { region: 'us-gov-west-1', useFipsEndpoint: true },
        host: /^dynamodb\.us-gov-west-1\.amazonaws\.com$/,
      },
      'an account-id endpoint': {
        config: {
          region: 'us-west-2',
          credentials: { ...credentials, accountId: '111122223333' },
          accountIdEndpointMode: 'required',
        },
        host: /^111122223333\.ddb\.us-west-2\.amazonaws\.com$/,
      },
      'a table ARN': {
        config: { region: 'us-west-2', accountIdEndpointMode: 'preferred' },
        tableName: 'arn:aws:dynamodb:us-west-2:444455556666:table/sessions',
        host: /^444455556666\.ddb\.us-west-2\.amazonaws\.com$/,
      },
      'an endpoint with a port and a path': {
        config: { endpoint: 'http://127.0.0.1:8111/base' },
        host: /^127\.0\.0\.1$/,
      },
    };
    for (const [what, { config, tableName = 'sessions', host }] of Object.entries(endpoints)) {
      test(`${what}: the same host, path, headers and signing scope as send, for each item call`, async (t) => {
        t.mock.timers.enable({ apis: ['Date'], now: fixedNow });
        const { sendClient, sent, direct, seen, directClient, stackRuns } = pair(sdk, config);
        for (const op of ops) {
          const input = { TableName: tableName, Key: { id: { S: 'k' } } };
          const item =
            op === 'PutItem'
              ? { TableName: tableName, Item: input.Key }
              : op === 'UpdateItem'
                ? {
                    ...input,
                    UpdateExpression: 'SET a = :a',
                    ExpressionAttributeValues: { ':a': { N: '1' } },
                  }
                : input;
          await viaSend(sendClient, sdk, op, item);
          await viaDirect(direct, op, item);
        }
        assert.equal(seen.length, 4);
        assertPath(t, sdk, stackRuns.count, 4);
        for (const [i, r] of seen.entries()) {
          assert.match(r.hostname, host);
          await assertSame(sent[i] as Seen, r, directClient);
        }
      });
    }

    const throttled = {
      status: 400,
      body: JSON.stringify({
        __type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException',
        message: 'Rate exceeded',
      }),
    };
    const answers: Record<string, Answer[]> = {
      'throttled twice, then an item': [
        throttled,
        throttled,
        { status: 200, body: JSON.stringify({ Item: { id: { S: 'k' }, b: { B: 'AAEC' } } }) },
      ],
      'always throttled': [throttled],
      'a 500, then success': [
        { status: 500, body: '' },
        { status: 200, body: '{}' },
      ],
      'a modeled error, never retried': [
        {
          status: 400,
          body: JSON.stringify({
            __type: 'com.amazonaws.dynamodb.v20120810#ResourceNotFoundException',
            message: 'Requested resource not found',
          }),
        },
      ],
      'a failed condition with the item': [
        {
          status: 400,
          body: JSON.stringify({
            __type: 'com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException',
            message: 'The conditional request failed',
            Item: { id: { S: 'k' } },
          }),
        },
      ],
      'a 429 without an error type': [{ status: 429, body: '' }],
      'a 503 page from a proxy': [
        { status: 503, headers: { 'content-type': 'text/html' }, body: '<html>down</html>' },
      ],
      'an error type in a header': [
        {
          status: 400,
          headers: { 'x-amzn-errortype': 'ThrottlingException:http://internal.amazon.com/' },
          body: '{"message":"Rate exceeded"}',
        },
      ],
    };
    for (const [what, script] of Object.entries(answers)) {
      test(`${what}: the same attempts, result or error (class, name, message, fault, fields, $metadata) as send`, async (t) => {
        const { sendClient, sent, direct, seen, stackRuns } = pair(sdk, { maxAttempts: 3 }, script);
        const input = { TableName: 'sessions', Key: { id: { S: 'k' } } };
        const outcome = (p: Promise<unknown>) =>
          p.then(
            // the direct path gives its metadata to the engine's counters, not with the output
            (out) => {
              const { $metadata: _metadata, ...rest } = out as { $metadata?: unknown };
              return { out: rest };
            },
            (err: Error & { $metadata?: Record<string, unknown> }) => ({
              class: err.constructor.name,
              name: err.name,
              message: err.message,
              fields: Object.fromEntries(Object.entries(err).filter(([k]) => k !== '$response')),
            }),
          );
        const strip = (o: { out?: unknown; fields?: { $metadata?: unknown } }) => {
          const meta = ((o.out ?? o.fields) as { $metadata?: Record<string, unknown> } | undefined)
            ?.$metadata;
          if (meta) {
            assert.ok(Number.isFinite(meta.totalRetryDelay), 'a retry delay in ms');
            meta.totalRetryDelay = 'jittered';
          }
          return o;
        };
        const a = strip(await outcome(viaSend(sendClient, sdk, 'GetItem', input)));
        const b = strip(await outcome(viaDirect(direct, 'GetItem', input)));
        assert.deepEqual(b, a);
        assert.deepEqual(
          seen.map((r) => r.headers['amz-sdk-request']),
          sent.map((r) => r.headers['amz-sdk-request']),
        );
        assert.ok(seen.length >= 1 && seen.length <= 3);
        assertPath(t, sdk, stackRuns.count, 1);
      });
    }

    test('the store over this client reads, writes and revokes sessions in DynamoDB Local', async (t) => {
      const config = await localConfig();
      const client = new sdk.DynamoDBClient(config) as unknown as Client;
      after(() => client.destroy());
      const tableName = await freshTable(client);
      const engine = new SessionEngine({ client, tableName });
      // counts the calls that went through the client's send (each resolves its middleware stack)
      const stack = client.middlewareStack;
      const concat = stack.concat.bind(stack);
      let viaStack = 0;
      stack.concat = ((other: Parameters<typeof concat>[0]) => {
        viaStack++;
        return concat(other);
      }) as typeof concat;
      const inAnHour = Math.floor(fixedNow / 1000) + 3600 * 24 * 365;
      await engine.set('s1', { user: 'ada', n: 1 }, inAnHour, { loaded: null });
      assert.deepEqual(await engine.get('s1'), { user: 'ada', n: 1 });
      await engine.touch('s1', inAnHour - 600);
      await engine.destroy('s1');
      assert.equal(await engine.get('s1'), null);
      const calls = engine.stats().total.calls;
      assert.equal(engine.stats().total.errors, 0);
      assert.ok(calls >= 5);
      // which path the store takes for a client of this copy of the SDK: either way, every call or none goes through send
      assert.ok(viaStack === 0 || viaStack === calls, `${viaStack} of ${calls} calls through send`);
      if (sdk === newest)
        assert.equal(viaStack, 0, 'a plain client of the installed SDK takes the direct path');
      t.diagnostic(`${viaStack} of ${calls} store calls through send`);
    });
  });
}

test('the oldest SDK tested is the lower bound of the dependency range', () => {
  const floor = /^\^(\d+\.\d+\.\d+)$/.exec(String(pkg.dependencies['@aws-sdk/client-dynamodb']))?.[1];
  assert.ok(floor);
  assert.equal(pkg.devDependencies['client-dynamodb-oldest'], `npm:@aws-sdk/client-dynamodb@${floor}`);
  assert.equal(versionOf('client-dynamodb-oldest'), floor);
  assert.notEqual(versionOf('@aws-sdk/client-dynamodb'), floor, 'the installed SDK is newer than the floor');
});

test('with test/oldest-sdk.ts loaded, every import of the SDK gets the oldest, or the process fails', async () => {
  const run = (script: string) =>
    new Promise<{ code: number; out: string }>((resolve) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', '--import', './test/oldest-sdk.ts', '--input-type=module', '-e', script],
        { env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' } },
        (err, stdout, stderr) => resolve({ code: err ? Number(err.code) : 0, out: stdout + stderr }),
      );
    });
  const loaded = await run(
    "const m = await import('@aws-sdk/client-dynamodb'); const o = await import('client-dynamodb-oldest'); console.log(m.DynamoDBClient === o.DynamoDBClient)",
  );
  assert.equal(loaded.code, 0, loaded.out);
  assert.equal(loaded.out.trim(), 'true');
});
