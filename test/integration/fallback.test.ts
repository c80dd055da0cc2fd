/**
 * The direct path fails safe. Each part of the client it uses is broken in turn, as an SDK upgrade
 * or a flaky provider could break it (once: the SDK's own stack then gets through): the call still
 * succeeds, through `client.send`, and so does every later call. Its errors are the SDK's own, with
 * the same names and `$metadata`, on the same answers.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { SessionEngine, StoreUnavailableError } from '../../src/index.ts';
import { directTransport } from '../../src/transport/direct.ts';
import { serviceErrorOf } from '../../src/transport/wire.ts';
import { clientOf, endpoint, freshTable, localClient, localConfig } from './helpers.ts';
import { bodyOf, expectedSignature, forward, signatureOf } from './signing.ts';

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
let tableName = '';
const closers: (() => unknown)[] = [];

before(async () => {
  tableName = await freshTable(await localClient());
});
after(async () => {
  for (const close of closers) await close();
});

/** An engine with its own client; `viaSend` counts the calls that went through the client's `send`. */
async function ownEngine(options: ConstructorParameters<typeof SessionEngine>[0] = {}) {
  const engine = new SessionEngine<Record<string, unknown>>({
    tableName,
    clientConfig: await localConfig(),
    ...options,
  });
  closers.push(() => engine.close());
  const client = clientOf(engine);
  const viaSend = { count: 0 };
  const send = client.send.bind(client);
  client.send = ((...args: Parameters<typeof send>) => {
    viaSend.count++;
    return send(...args);
  }) as typeof send;
  return { engine, client, viaSend };
}

/** Wraps `fn` so that its first call does `broken` instead. */
function brokenOnce<F extends (...args: never[]) => unknown>(
  fn: F,
  broken: (...args: Parameters<F>) => unknown,
): F {
  let first = true;
  return ((...args: Parameters<F>) => {
    if (!first) return fn(...args);
    first = false;
    return broken(...args);
  }) as F;
}

type Sign = Awaited<ReturnType<DynamoDBClient['config']['signer']>>['sign'];

/**
 * Gives the client a signer of another kind than the SDK's own `SignatureV4` (as a custom signer, or
 * one after an upgrade, would be): the direct path then signs with it, not by itself. Its first
 * signature (the SDK asks `config.signer` for a signer on every call, the direct path once) is made
 * by `broken`, given the real `sign`.
 */
function breakSigner(
  client: DynamoDBClient,
  broken: (request: Parameters<Sign>[0], options: Parameters<Sign>[1], sign: Sign) => ReturnType<Sign>,
): void {
  const signer = client.config.signer;
  let first = true;
  client.config.signer = async (...args: Parameters<typeof signer>) => {
    const real = await signer(...args);
    const sign: Sign = (request, options) => real.sign(request, options);
    const other = {
      sign: (request: Parameters<Sign>[0], options: Parameters<Sign>[1]) => {
        if (!first) return sign(request, options);
        first = false;
        return broken(request, options, sign);
      },
    };
    return other as unknown as typeof real;
  };
}

/** Saves, loads and destroys a session; checks what it read back. */
async function roundTrip(engine: SessionEngine, id: string): Promise<void> {
  await engine.set(id, { user: id });
  assert.deepEqual(await engine.get(id), { user: id });
  await engine.destroy(id);
  assert.equal(await engine.get(id), null);
}

describe('a part that fails sends its call through the SDK; one of another shape, every later call too', () => {
  test('nothing broken: no call goes through send (the baseline of the tests below)', async () => {
    const { engine, viaSend } = await ownEngine();
    await roundTrip(engine, 'baseline');
    assert.equal(viaSend.count, 0);
  });

  test('a burst of first calls shares one preparation of the direct path, and none goes through send', async () => {
    const { engine, viaSend } = await ownEngine();
    const config = clientOf(engine).config;
    const retryStrategy = config.retryStrategy;
    let prepared = 0;
    config.retryStrategy = () => {
      prepared++;
      return retryStrategy();
    };
    const ids = Array.from({ length: 20 }, (_, i) => `burst-${i}`);
    assert.deepEqual(
      await Promise.all(ids.map((id) => engine.get(id))),
      ids.map(() => null),
    );
    assert.equal(prepared, 1);
    assert.equal(viaSend.count, 0);
  });

  /** Parts of another shape: they fail again on every call, so every later call goes through send. */
  const breakages: Record<string, (client: DynamoDBClient) => void> = {
    'a credential provider that gives credentials of another shape': (client) => {
      const broken = brokenOnce(client.config.credentials, () =>
        Promise.resolve({ key: 'local', secret: 'local' } as never),
      );
      // marked as already memoized, or the client's setter would keep its first answer for good
      client.config.credentials = Object.assign(broken, { memoized: true });
    },
    'a signer that throws': (client) => {
      breakSigner(client, () => Promise.reject(new TypeError('request.headers is not iterable')));
    },
    'a signer that gives a request of another shape (no authorization header)': (client) => {
      breakSigner(client, (request) => Promise.resolve({ ...request, headers: {} }));
    },
    'a request handler that answers in another shape': (client) => {
      const handler = client.config.requestHandler;
      handler.handle = brokenOnce(handler.handle.bind(handler), () => Promise.resolve({ output: {} }));
    },
    'a request handler that throws a TypeError': (client) => {
      const handler = client.config.requestHandler;
      handler.handle = brokenOnce(handler.handle.bind(handler), () =>
        Promise.reject(new TypeError('Cannot read properties of undefined')),
      );
    },
    'a retry strategy of another shape': (client) => {
      client.config.retryStrategy = brokenOnce(client.config.retryStrategy, () =>
        Promise.resolve({ mode: 'custom', retry: () => Promise.reject(new Error('not called')) }),
      );
    },
  };

  for (const [what, breakIt] of Object.entries(breakages)) {
    test(what, async () => {
      const { engine, client, viaSend } = await ownEngine();
      breakIt(client);
      const id = `broken-${what.replace(/\W+/g, '-')}`;
      await roundTrip(engine, id);
      assert.ok(viaSend.count > 0);
      assert.equal(
        viaSend.count,
        engine.stats().total.calls,
        'the call that met the broken part, and every later one',
      );
      assert.equal(engine.stats().total.errors, 0, 'no call failed');
    });
  }

  /** Providers that fail once, as a credential source or a network does for a moment: only that call goes through send. */
  const hiccups: Record<string, (client: DynamoDBClient) => void> = {
    'a credential provider that throws once': (client) => {
      client.config.credentials = brokenOnce(client.config.credentials, () =>
        Promise.reject(new Error('credentials are not there yet')),
      );
    },
    'endpoint rules that throw once': (client) => {
      client.config.endpointProvider = brokenOnce(client.config.endpointProvider, () => {
        throw new Error('no endpoint rule matches');
      });
    },
  };

  for (const [what, breakIt] of Object.entries(hiccups)) {
    test(`${what}: that call goes through send, every later one the direct way`, async () => {
      const { engine, client, viaSend } = await ownEngine();
      breakIt(client);
      await roundTrip(engine, `hiccup-${what.replace(/\W+/g, '-')}`);
      assert.ok(engine.stats().total.calls > 1);
      assert.equal(viaSend.count, 1, 'only the call that met the failure');
      assert.equal(engine.stats().total.errors, 0, 'no call failed');
    });
  }

  test('a part of another shape keeps the direct path off only until the client configuration changes', async () => {
    const { engine, client, viaSend } = await ownEngine();
    const sdkSigner = client.config.signer;
    breakSigner(client, () => Promise.reject(new TypeError('request.headers is not iterable')));
    await roundTrip(engine, 'shape-then-fixed');
    const calls = engine.stats().total.calls;
    assert.equal(viaSend.count, calls);
    // the app gives the client another signer (the SDK's own again): the direct path is tried again
    client.config.signer = sdkSigner;
    await roundTrip(engine, 'shape-then-fixed-2');
    assert.equal(viaSend.count, calls, 'no later call went through send');
  });

  test("transport: 'sdk' sends every call through send", async () => {
    const { engine, viaSend } = await ownEngine({ transport: 'sdk' });
    await roundTrip(engine, 'sdk-transport');
    assert.ok(viaSend.count > 0);
    assert.equal(viaSend.count, engine.stats().total.calls);
  });
});

/** DynamoDB Local behind a check of every request's signature (DynamoDB Local does not check them). */
async function signatureChecking(refuseFirst = false): Promise<{ url: string; refused: () => number }> {
  const target = new URL(await endpoint());
  let refused = 0;
  let first = refuseFirst;
  const server = createServer(async (req, res) => {
    const body = await bodyOf(req);
    const valid =
      signatureOf(req.headers) === expectedSignature(req.headers, body, credentials.secretAccessKey);
    if (first || !valid) {
      first = false;
      refused++;
      res.writeHead(400, {
        'content-type': 'application/x-amz-json-1.0',
        'x-amzn-requestid': `refused-${refused}`,
      });
      res.end(
        JSON.stringify({
          __type: 'com.amazon.coral.service#InvalidSignatureException',
          message: 'The request signature we calculated does not match the signature you provided.',
        }),
      );
      return;
    }
    forward(target, req, body, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(() => server.close());
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, refused: () => refused };
}

describe('a request DynamoDB refuses as badly signed', () => {
  test('the signatures the direct path makes itself are valid: none refused, none sent through send', async () => {
    const checking = await signatureChecking();
    const { engine, viaSend } = await ownEngine({
      clientConfig: await localConfig({ endpoint: checking.url }),
    });
    await roundTrip(engine, 'signed-1');
    assert.equal(checking.refused(), 0);
    assert.equal(viaSend.count, 0);
  });

  test('refused once, is sent again through the SDK, which gets it through: later calls go through the SDK', async () => {
    const checking = await signatureChecking(true);
    const { engine, viaSend } = await ownEngine({
      clientConfig: await localConfig({ endpoint: checking.url }),
    });
    await roundTrip(engine, 'refused-0');
    assert.equal(checking.refused(), 1);
    assert.equal(viaSend.count, engine.stats().total.calls);
    assert.equal(engine.stats().total.errors, 0);
  });

  test('a signer of another kind that signs wrongly once: the same', async () => {
    const checking = await signatureChecking();
    const { engine, client, viaSend } = await ownEngine({
      clientConfig: await localConfig({ endpoint: checking.url }),
    });
    // a signer that signs differently after an upgrade: its first signature is wrong
    breakSigner(client, async (request, options, sign) => {
      const signed = await sign(request, options);
      const auth = String(signed.headers.authorization);
      signed.headers.authorization = auth.replace(/.$/, (c) => (c === '0' ? '1' : '0'));
      return signed;
    });
    await roundTrip(engine, 'refused-1');
    assert.equal(checking.refused(), 1);
    assert.equal(viaSend.count, engine.stats().total.calls);
    assert.equal(engine.stats().total.errors, 0);
  });

  test('is the answer when the SDK is refused too (a wrong secret key), and the direct path stays on', async () => {
    const checking = await signatureChecking();
    let secret = 'wrong';
    const { engine, viaSend } = await ownEngine({
      clientConfig: await localConfig({
        endpoint: checking.url,
        // refreshed on every use: it expires within the SDK's refresh window
        credentials: async () => ({
          accessKeyId: 'local',
          secretAccessKey: secret,
          expiration: new Date(Date.now() + 60_000),
        }),
      }),
    });
    const err = await engine.get('x').then(
      () => assert.fail('no error'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof StoreUnavailableError);
    assert.equal((err.cause as Error).name, 'InvalidSignatureException');
    assert.equal(checking.refused(), 2, 'once directly, once by the SDK');
    assert.equal(viaSend.count, 1);
    secret = 'local';
    assert.equal(await engine.get('x'), null);
    assert.equal(viaSend.count, 1, 'the next call went the direct way');
  });
});

describe('errors are the SDK’s own', () => {
  const answers: Record<string, { status: number; headers?: Record<string, string>; body: string }> = {
    'a modeled error': {
      status: 400,
      headers: { 'x-amzn-requestid': 'RID-1' },
      body: JSON.stringify({
        __type: 'com.amazonaws.dynamodb.v20120810#ResourceNotFoundException',
        message: 'Requested resource not found',
      }),
    },
    'a 429 without an error type': { status: 429, body: '' },
    'a 500 without a body': { status: 500, headers: { 'x-amzn-requestid': 'RID-2' }, body: '' },
    'a 503 page from a proxy': {
      status: 503,
      headers: { 'content-type': 'text/html' },
      body: '<html>down</html>',
    },
    'an error type in a header': {
      status: 400,
      headers: { 'x-amzn-errortype': 'ThrottlingException:http://internal.amazon.com/' },
      body: '{"message":"Rate exceeded"}',
    },
    'an error type the SDK does not model': {
      status: 400,
      body: JSON.stringify({ __type: 'com.amazon.coral.service#SomethingNewException', Message: 'new' }),
    },
  };
  let current = '';
  let served = 0;

  async function canned(): Promise<string> {
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        served++;
        const a = answers[current];
        if (!a) throw new Error(`no answer ${current}`);
        res.writeHead(a.status, { 'content-type': 'application/x-amz-json-1.0', ...a.headers });
        res.end(a.body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    closers.push(() => server.close());
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  const shape = (e: unknown) => {
    const err = e as Error & { $fault?: string; $metadata?: unknown };
    return {
      class: err.constructor.name,
      name: err.name,
      message: err.message,
      $fault: err.$fault,
      $metadata: err.$metadata,
      fields: Object.keys(err).sort(),
    };
  };

  for (const what of Object.keys(answers)) {
    test(`${what}: the same class, name, message, fault, fields and $metadata (attempts and totalRetryDelay too)`, async () => {
      current = what;
      const url = await canned();
      const config = await localConfig({ endpoint: url, maxAttempts: 2 });
      const sdk = new DynamoDBClient(config);
      const direct = directTransport(new DynamoDBClient(config));
      const input = { TableName: 't', Key: { id: { S: 'a' } } };
      served = 0;
      const viaSdk = await sdk.send(new GetItemCommand(input)).then(() => assert.fail('no error'), shape);
      const sdkAttempts = served;
      served = 0;
      const viaDirect = await direct.getItem(input).then(() => assert.fail('no error'), shape);
      assert.equal(served, sdkAttempts, 'as many attempts');
      const { totalRetryDelay: a, ...metaSdk } = viaSdk.$metadata as { totalRetryDelay: number };
      const { totalRetryDelay: b, ...metaDirect } = viaDirect.$metadata as { totalRetryDelay: number };
      // the retry delays are jittered (full jitter can draw 0 ms): both are delays, and the attempts
      // in $metadata, compared below, say both retried alike
      for (const delay of [a, b]) assert.ok(Number.isFinite(delay) && delay >= 0, `a delay in ms: ${delay}`);
      assert.deepEqual({ ...viaDirect, $metadata: metaDirect }, { ...viaSdk, $metadata: metaSdk });
      // the error made here when the client's protocol cannot be used has the same name, message and metadata
      const response = { statusCode: answers[what]?.status ?? 0, headers: { ...answers[what]?.headers } };
      const made = shape(serviceErrorOf(response, answers[what]?.body ?? ''));
      const {
        attempts: _attempts,
        totalRetryDelay: _delay,
        ...firstMeta
      } = viaSdk.$metadata as Record<string, unknown>;
      assert.deepEqual(
        { name: made.name, message: made.message, $fault: made.$fault, $metadata: made.$metadata },
        { name: viaSdk.name, message: viaSdk.message, $fault: viaSdk.$fault, $metadata: firstMeta },
      );
    });
  }
});
