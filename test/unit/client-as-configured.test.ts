/**
 * The direct path sends what the client's own `send` sends, for the client as the app configured it
 * at the moment of each call: its own signer or auth schemes, an endpoint given as a function, a
 * logger set later, a custom user agent; a provider that fails once costs one call, not the direct
 * path; stores made and closed over one client leave its middleware stack as it was. Recording
 * request handlers answer; nothing goes on the network.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { Readable } from 'node:stream';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DynamoDBClient, type DynamoDBClientConfig, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { SessionEngine } from '../../src/index.ts';
import { directTransport } from '../../src/transport/direct.ts';
import { countStackRuns, expectedSignature } from '../integration/signing.ts';

interface Seen {
  host: string;
  headers: Record<string, string>;
  body: string;
}

type Answer = { status: number; body: string; headers?: Record<string, string> };

/** A request handler that records each request and answers `answer` (an empty item by default). */
function recording(answer: (n: number) => Answer = () => ({ status: 200, body: '{}' })) {
  const seen: Seen[] = [];
  const handler = {
    metadata: { handlerProtocol: 'http/1.1' },
    async handle(request: {
      hostname: string;
      port?: number;
      headers: Record<string, string>;
      body: string;
    }) {
      seen.push({
        host: `${request.hostname}${request.port ? `:${request.port}` : ''}`,
        headers: { ...request.headers },
        body: String(request.body),
      });
      const a = answer(seen.length);
      const headers = { 'x-amzn-requestid': `req-${seen.length}`, ...a.headers };
      return { response: { statusCode: a.status, headers, body: Readable.from([Buffer.from(a.body)]) } };
    },
    updateHttpClientConfig() {},
    httpHandlerConfigs: () => ({}),
    destroy() {},
  };
  return { seen, handler: handler as unknown as NonNullable<DynamoDBClientConfig['requestHandler']> };
}

const credentials = { accessKeyId: 'AKIDCLIENT', secretAccessKey: 'client-secret' };
const input = { TableName: 'sessions', Key: { id: { S: 'a' } } };

/**
 * A client over a recording handler; `viaSend` counts the calls that went through its `send` (each
 * resolves the middleware stack: `send` itself is left as the SDK's, which a wrapper would not be).
 */
function recorded(config: DynamoDBClientConfig = {}, answer?: (n: number) => Answer) {
  const { seen, handler } = recording(answer);
  const client = new DynamoDBClient({ region: 'eu-west-1', credentials, requestHandler: handler, ...config });
  return { client, seen, viaSend: countStackRuns(client) };
}

/** One item call per `get`: no second look on a miss. */
const oneReadPerGet = { consistentReadOnMiss: false, plainIdFallback: false };

describe('the signer and auth schemes the app gave the client', () => {
  test('a signer of its own (other credentials, another service) signs every direct request, as under send', async () => {
    // a SigV4 signer with credentials of its own: another client's
    const signer = await new DynamoDBClient({
      region: 'eu-west-1',
      credentials: { accessKeyId: 'AKIDSIGNER', secretAccessKey: 'signer-secret' },
    }).config.signer();
    const sdk = recorded({ signer });
    const direct = recorded({ signer });
    await sdk.client.send(new GetItemCommand(input));
    await directTransport(direct.client).getItem(input);
    assert.equal(direct.viaSend.count, 0, 'the direct path sent it, with that signer');
    for (const r of [sdk.seen[0], direct.seen[0]]) {
      assert.ok(r);
      assert.match(r.headers.authorization ?? '', /Credential=AKIDSIGNER\//);
      assert.equal(
        /Signature=(\w+)$/.exec(r.headers.authorization ?? '')?.[1],
        expectedSignature(r.headers, r.body, 'signer-secret'),
      );
    }
  });

  test('auth schemes of the app: every call goes through send, which signs with them', async () => {
    let signed = 0;
    const client = recorded();
    const scheme = client.client.config.httpAuthSchemes[0];
    assert.ok(scheme);
    type Sign = (typeof scheme.signer)['sign'];
    const sign: Sign = (...args) => {
      signed++;
      return scheme.signer.sign(...args);
    };
    // as an app's own auth scheme would be given (`httpAuthSchemes` in the client's configuration)
    Object.assign(client.client.config, { httpAuthSchemes: [{ ...scheme, signer: { sign } }] });
    const direct = directTransport(client.client);
    await direct.getItem(input);
    await direct.getItem(input);
    assert.equal(client.viaSend.count, 2);
    assert.equal(signed, 2, "the app's signer signed each");
  });
});

describe('the configuration as it is at each call', () => {
  test('an endpoint given as a function is asked on every call: its failover is followed, as under send', async () => {
    const hosts = ['a.example.internal', 'b.example.internal', 'a.example.internal'];
    let healthy = '';
    const endpoint = async () => ({ url: new URL(`https://${healthy}/`) });
    const sdk = recorded({ endpoint });
    const direct = recorded({ endpoint });
    const transport = directTransport(direct.client);
    for (const host of hosts) {
      healthy = host; // the app fails over
      await sdk.client.send(new GetItemCommand(input));
      await transport.getItem(input);
    }
    assert.deepEqual(
      sdk.seen.map((r) => r.host),
      hosts,
    );
    assert.deepEqual(
      direct.seen.map((r) => r.host),
      hosts,
    );
    assert.deepEqual(
      direct.seen.map((r) => r.headers.host),
      sdk.seen.map((r) => r.headers.host),
    );
    assert.equal(direct.viaSend.count, 0);
  });

  test("a store's own client given an endpoint function asks it on every call too", async () => {
    const { seen, handler } = recording();
    let n = 0;
    const engine = new SessionEngine({
      tableName: 'sessions',
      ...oneReadPerGet,
      clientConfig: {
        region: 'eu-west-1',
        credentials,
        requestHandler: handler,
        endpoint: async () => ({ url: new URL(`https://host-${n++ % 2}.example.internal/`) }),
      },
    });
    await engine.get('one');
    await engine.get('two');
    engine.close();
    assert.deepEqual(
      seen.map((r) => r.host),
      ['host-0.example.internal', 'host-1.example.internal'],
    );
  });

  test('a logger set on the client after the store was made sees every later call', async () => {
    const { client, viaSend } = recorded();
    const engine = new SessionEngine({ client, tableName: 'sessions' });
    await engine.get('before');
    assert.equal(viaSend.count, 0, 'the direct path, while the client logs nothing');
    const logged: unknown[] = [];
    client.config.logger = {
      debug() {},
      info: (entry: unknown) => logged.push(entry),
      warn() {},
      error() {},
    };
    await engine.get('after');
    assert.ok(viaSend.count > 0);
    assert.equal(logged.length, viaSend.count, "each call logged by the client's stack");
  });

  test('a credential provider that fails once sends that call through send, and only that one', async () => {
    let calls = 0;
    const provider = async () => {
      calls++;
      if (calls === 1) throw new Error('the instance metadata service timed out');
      return { ...credentials, expiration: new Date(Date.now() + 60_000) };
    };
    const { client, seen, viaSend } = recorded({ credentials: provider });
    const direct = directTransport(client);
    await direct.getItem(input);
    assert.equal(viaSend.count, 1);
    for (let i = 0; i < 5; i++) await direct.getItem(input);
    assert.equal(viaSend.count, 1, 'the later calls went the direct way');
    assert.equal(seen.length, 6);
  });
});

describe('what is sent and read, as send does', () => {
  test('a custom user agent with spaces and non-Latin-1 characters is escaped, and x-amz-user-agent sent, as under send', async () => {
    for (const customUserAgent of ['my app/1.0', 'café ü/2 ☃', 'plain']) {
      const config = { customUserAgent, userAgentAppId: 'shop front' };
      const sdk = recorded(config);
      const direct = recorded(config);
      await sdk.client.send(new GetItemCommand(input));
      await directTransport(direct.client).getItem(input);
      assert.equal(direct.viaSend.count, 0, `${customUserAgent}: sent directly`);
      const [a, b] = [sdk.seen[0]?.headers, direct.seen[0]?.headers];
      assert.ok(a?.['user-agent'] && a['x-amz-user-agent'] && b);
      assert.equal(b['x-amz-user-agent'], a['x-amz-user-agent']);
      for (const h of ['user-agent', 'x-amz-user-agent']) assert.match(String(b[h]), /^[\x21-\x7e ]+$/, h);
      // the SDK's user agent, with this package's section before the custom one
      const custom = a['x-amz-user-agent'].split(' ').slice(1).join(' ');
      assert.ok(custom && a['user-agent'].endsWith(` ${custom}`));
      const withLib = `${a['user-agent'].slice(0, -custom.length)}lib/dynamodb-sessions ${custom}`;
      assert.equal(b['user-agent'], withLib);
    }
  });

  test('a 200 whose body is not JSON fails as under send: the same class, message, $metadata and a $response', async () => {
    const notJson = () => ({ status: 200, body: '<html>maintenance</html>' });
    const sdk = recorded({}, notJson);
    const direct = recorded({}, notJson);
    const shape = (e: unknown) => {
      const err = e as Error & { $metadata?: unknown; $response?: { statusCode?: number } };
      return {
        class: err.constructor.name,
        name: err.name,
        message: err.message,
        $metadata: err.$metadata,
        response: err.$response?.statusCode,
      };
    };
    const viaSdk = await sdk.client
      .send(new GetItemCommand(input))
      .then(() => assert.fail('no error'), shape);
    const viaDirect = await directTransport(direct.client)
      .getItem(input)
      .then(() => assert.fail('no error'), shape);
    assert.equal(viaDirect.response, 200);
    assert.deepEqual(viaDirect, viaSdk);
    assert.equal(direct.viaSend.count, 0);
  });
});

describe('stores made and closed over one client', () => {
  test("wrap the client's stack methods once, however many, and close() puts them back", async () => {
    const { client } = recorded();
    const stack = client.middlewareStack;
    const original = { add: stack.add, use: stack.use, remove: stack.remove };
    const engines = Array.from({ length: 1000 }, () => new SessionEngine({ client, tableName: 'sessions' }));
    const watched = stack.add;
    assert.notEqual(watched, original.add, 'watched, so that middleware added later is seen');
    await engines[0]?.get('x');
    for (const e of engines) e.close();
    assert.equal(stack.add, original.add);
    assert.equal(stack.use, original.use);
    assert.equal(stack.remove, original.remove);
    // the app's own middleware still goes on, and sees its calls
    let seen = 0;
    client.middlewareStack.add(
      (next) => (args) => {
        seen++;
        return next(args);
      },
      { step: 'initialize', name: 'appMiddleware' },
    );
    const engine = new SessionEngine({ client, tableName: 'sessions' });
    await engine.get('y');
    engine.close();
    assert.ok(seen > 0);
  });

  test('one made after others were closed still sees middleware added later', async () => {
    const { client, viaSend } = recorded();
    for (let i = 0; i < 3; i++) new SessionEngine({ client, tableName: 'sessions' }).close();
    const engine = new SessionEngine({ client, tableName: 'sessions' });
    await engine.get('a');
    assert.equal(viaSend.count, 0);
    client.middlewareStack.add((next) => (args) => next(args), { step: 'build', name: 'later' });
    await engine.get('b');
    assert.ok(viaSend.count > 0);
    // and when the app removes it, the direct path again
    const before = viaSend.count;
    client.middlewareStack.remove('later');
    await engine.get('c');
    assert.equal(viaSend.count, before);
    engine.close();
  });
});

/** Runs a script of `children/` with tsx; resolves with its stdout and stderr. */
function runChild(
  script: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; nodeFlags?: string[] } = {},
): Promise<{ stdout: string; stderr: string }> {
  const path = fileURLToPath(new URL(`./children/${script}`, import.meta.url));
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [...(options.nodeFlags ?? []), '--import', 'tsx', path, ...args],
      { env: { ...process.env, ...options.env }, timeout: 120_000, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => (err ? reject(Object.assign(err, { stderr })) : resolve({ stdout, stderr })),
    );
  });
}

test('10,000 stores made and closed over one client: the heap stays flat and the app can still add middleware', async () => {
  const { stdout } = await runChild('many-stores.ts', [], { nodeFlags: ['--expose-gc'] });
  const { growth, restored, addWorks } = JSON.parse(stdout) as {
    growth: number;
    restored: boolean;
    addWorks: boolean;
  };
  assert.equal(restored, true, "the stack's add is the SDK's own again");
  assert.equal(addWorks, true);
  assert.ok(growth < 4 * 1024 * 1024, `the heap grew by ${growth} bytes`);
});

test('the debug log names what failed, never the session token, the secret key or a signature', async () => {
  const token = `IQoJb3JpZ2luX2VjE${'x'.repeat(40)}SESSIONTOKEN`;
  const secret = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYSECRETKEY';
  const { stdout, stderr } = await runChild('debug-log.ts', [token, secret], {
    env: { NODE_DEBUG: 'dynamodb-sessions' },
  });
  const authorizations = JSON.parse(stdout) as string[];
  assert.ok(authorizations.length >= 3, 'the refused request, its resend and the later calls');
  // what authenticates a request is not in the log
  assert.ok(!stderr.includes(token), 'no session token');
  assert.ok(!stderr.includes(secret), 'no secret key');
  for (const authorization of authorizations) {
    const signature = /Signature=(\w+)/.exec(authorization)?.[1];
    assert.ok(signature && !stderr.includes(signature), 'no signature');
  }
  // what happened is
  assert.match(stderr, /DYNAMODB-SESSIONS \d+: .*InvalidSignatureException/);
  assert.match(stderr, /DYNAMODB-SESSIONS \d+: .*credential|provider/);
  assert.doesNotMatch(stderr, /authorization:|x-amz-security-token:/i);
});
