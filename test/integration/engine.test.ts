import assert from 'node:assert/strict';
import { type AddressInfo, createServer, type Socket } from 'node:net';
import { before, describe, test } from 'node:test';
import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import {
  InvalidSessionIdError,
  MalformedItemError,
  SessionDataError,
  SessionEngine,
  SessionTooLargeError,
  StoreUnavailableError,
} from '../../src/index.ts';
import { countCommands, downClient, freshTable, keyOf, localClient } from './helpers.ts';

const client = await localClient();
const counter = countCommands(client);
let tableName = '';
const inAnHour = () => Math.floor(Date.now() / 1000) + 3600;

before(async () => {
  tableName = await freshTable(client);
});

function engine(options: ConstructorParameters<typeof SessionEngine>[0] = {}) {
  return new SessionEngine({ client, tableName, ...options });
}

async function rawItem(key: string) {
  const out = await client.send(
    new GetItemCommand({ TableName: tableName, Key: { id: { S: key } }, ConsistentRead: true }),
  );
  return out.Item;
}

describe('get and set', () => {
  test('get returns null for a session never stored', async () => {
    assert.equal(await engine().get('missing'), null);
  });

  test('set then get round-trips data the way JSON would, as a readable map', async () => {
    class Profile {
      constructor(
        public name: string,
        public since: Date,
      ) {}
    }
    const e = engine();
    await e.set(
      'round',
      { user: new Profile('ada', new Date(0)), list: [1, undefined, 'x'], gone: undefined, n: 1.5 },
      inAnHour(),
    );
    assert.deepEqual(await e.get('round'), {
      list: [1, null, 'x'],
      n: 1.5,
      user: { name: 'ada', since: '1970-01-01T00:00:00.000Z' },
    });
    const item = await rawItem(keyOf('round'));
    assert.ok(item?.sess?.M, 'stored as a map');
  });

  test('the item holds key, data, expiry in epoch seconds and version, under the prefix', async () => {
    const expires = inAnHour();
    await engine().set('shape', { a: 1 }, expires);
    const item = await rawItem(keyOf('shape'));
    assert.deepEqual(Object.keys(item ?? {}).sort(), ['expires', 'id', 'sess', 'ver']);
    assert.equal(item?.expires?.N, String(expires));
  });

  test('get returns null once expired, before TTL deletes it', async () => {
    await client.send(
      new PutItemCommand({
        TableName: tableName,
        Item: {
          id: { S: 'session#old' },
          sess: { M: { a: { N: '1' } } },
          expires: { N: String(Math.floor(Date.now() / 1000) - 5) },
        },
      }),
    );
    assert.ok(await rawItem('session#old'), 'the item is still in the table');
    assert.equal(await engine().get('old'), null);
  });

  test('reads a connect-dynamodb item (sess as a JSON string) with its prefix', async () => {
    await client.send(
      new PutItemCommand({
        TableName: tableName,
        Item: {
          id: { S: 'sess:legacy' },
          type: { S: 'connect-session' },
          sess: { S: JSON.stringify({ cookie: { originalMaxAge: 1000 }, user: 'ada' }) },
          expires: { N: String(inAnHour()) },
        },
      }),
    );
    assert.deepEqual(await engine({ prefix: 'sess:' }).get('legacy'), {
      cookie: { originalMaxAge: 1000 },
      user: 'ada',
    });
  });

  test('reads are eventually consistent, and a miss is re-read once strongly', async () => {
    const reads: (boolean | undefined)[] = [];
    const c = await localClient();
    c.middlewareStack.add(
      (next, context) => (args) => {
        if (context.commandName === 'GetItemCommand')
          reads.push((args.input as { ConsistentRead?: boolean }).ConsistentRead);
        return next(args);
      },
      { step: 'initialize' },
    );
    const e = new SessionEngine({ client: c, tableName });
    await e.set('consistent', { a: 1 }, inAnHour(), { loaded: null });
    await e.get('consistent');
    assert.deepEqual(reads, [false]);
    await e.get('nobody');
    assert.deepEqual(reads, [false, false, true]);
    reads.length = 0;
    await new SessionEngine({ client: c, tableName, consistentReadOnMiss: false }).get('nobody');
    assert.deepEqual(reads, [false]);
  });

  test('works with a DynamoDBDocumentClient', async () => {
    const e = new SessionEngine({ client: DynamoDBDocumentClient.from(await localClient()), tableName });
    await e.set('doc', { when: new Date(0) }, inAnHour());
    assert.deepEqual(await e.get('doc'), { when: '1970-01-01T00:00:00.000Z' });
  });
});

describe('unchanged sessions and touch throttling', () => {
  test('saving unchanged data inside touchAfter sends no write', async () => {
    const e = engine();
    await e.set('same', { user: 'ada', cart: [1, 2] }, inAnHour());
    const loaded = await e.load('same');
    counter.reset();
    await e.set('same', { ...loaded?.data }, inAnHour() + 60, { loaded });
    await e.touch('same', inAnHour() + 120);
    assert.equal(counter.writes(), 0);
  });

  test('saving unchanged data after touchAfter sends one expiry-only UpdateItem', async () => {
    const e = engine({ touchAfter: 60 });
    const expires = inAnHour();
    await e.set('due', { user: 'ada' }, expires);
    const loaded = await e.load('due');
    counter.reset();
    await e.set('due', { user: 'ada' }, expires + 61, { loaded });
    assert.deepEqual(counter.counts, { UpdateItemCommand: 1 });
    assert.equal((await e.load('due'))?.expiresAtSec, expires + 61);
  });

  test('a shorter expiry is always written', async () => {
    const e = engine();
    const expires = inAnHour();
    await e.set('shorter', { a: 1 }, expires);
    counter.reset();
    await e.touch('shorter', expires - 600);
    assert.deepEqual(counter.counts, { UpdateItemCommand: 1 });
    assert.equal((await e.load('shorter'))?.expiresAtSec, expires - 600);
  });

  test('a lifetime shorter than touchAfter is still extended: the expiry lags by at most a fifth of it', async () => {
    const e = engine({ touchAfter: 3600 });
    const now = Math.floor(Date.now() / 1000);
    await e.set('short', { a: 1 }, now + 600);
    counter.reset();
    await e.touch('short', now + 650); // 50 s later than stored: under a fifth of 600 s
    assert.equal(counter.writes(), 0);
    await e.touch('short', now + 800); // 200 s later: over a fifth of its 800 s lifetime
    assert.deepEqual(counter.counts, { UpdateItemCommand: 1 });
  });

  test('touchAfter 0 writes the expiry on every touch', async () => {
    const e = engine({ touchAfter: 0 });
    await e.set('every', { a: 1 }, inAnHour());
    counter.reset();
    await e.touch('every', inAnHour());
    await e.touch('every', inAnHour());
    assert.equal(counter.of('UpdateItemCommand'), 2);
  });

  test('changed data is written whole with one PutItem', async () => {
    const e = engine();
    await e.set('changed', { n: 1 }, inAnHour());
    const loaded = await e.load('changed');
    counter.reset();
    await e.set('changed', { n: 2 }, inAnHour(), { loaded });
    assert.deepEqual(counter.counts, { PutItemCommand: 1 });
    assert.deepEqual(await e.get('changed'), { n: 2 });
  });

  test('unchanged data is judged against the load given as loaded, not a later write', async () => {
    const e = engine();
    await e.set('two-tabs', { cart: 1 }, inAnHour());
    const slow = await e.load('two-tabs'); // request A loads
    await e.set('two-tabs', { cart: 2 }, inAnHour(), { loaded: await e.load('two-tabs') }); // request B changes it
    counter.reset();
    await e.set('two-tabs', { cart: 1 }, inAnHour(), { loaded: slow }); // A ends unchanged
    assert.equal(counter.of('PutItemCommand'), 0);
    assert.deepEqual(await e.get('two-tabs'), { cart: 2 });
    await e.set('two-tabs', { cart: 3 }, inAnHour(), { loaded: slow }); // A changed it: the later write wins
    assert.deepEqual(await e.get('two-tabs'), { cart: 3 });
  });

  test('key order does not make unchanged data look changed', async () => {
    const e = engine();
    await e.set('order', { b: 1, a: { d: 1, c: 2 } }, inAnHour());
    const loaded = await e.load('order');
    counter.reset();
    await e.set('order', { a: { c: 2, d: 1 }, b: 1 }, inAnHour(), { loaded });
    assert.equal(counter.writes(), 0);
  });

  test('a touch never creates an item, and never brings a destroyed session back', async () => {
    const e = engine({ touchAfter: 0 });
    await e.touch('never-stored', inAnHour());
    assert.equal(await rawItem(keyOf('never-stored')), undefined);
    await e.set('gone', { a: 1 }, inAnHour());
    await engine().destroy('gone');
    await e.touch('gone', inAnHour() + 7200);
    assert.equal(await e.get('gone'), null);
    const item = await rawItem(keyOf('gone'));
    assert.equal(item?.sess, undefined, 'no session data came back');
  });
});

describe('destroy', () => {
  test('destroy leaves a tombstone without data; a save in flight cannot write the session back', async () => {
    const tab1 = engine();
    const tab2 = engine();
    await tab1.set('logout', { user: 'ada' }, inAnHour());
    const loaded = await tab2.load('logout');
    await tab1.destroy('logout');
    await tab2.set('logout', { user: 'ada', changed: true }, inAnHour(), { loaded });
    assert.equal(await tab1.get('logout'), null);
    const item = await rawItem(keyOf('logout'));
    assert.ok(item?.destroyed, 'tombstone');
    assert.equal(item?.sess, undefined);
  });

  test('with tombstoneSeconds 0, destroy deletes the item', async () => {
    const e = engine({ tombstoneSeconds: 0 });
    await e.set('deleted', { a: 1 }, inAnHour());
    await e.destroy('deleted');
    assert.equal(await rawItem(keyOf('deleted')), undefined);
  });
});

describe('errors', () => {
  test('a session over 400 KB is refused before any call, the stored one stays', async () => {
    const e = engine();
    await e.set('big', { small: true }, inAnHour());
    counter.reset();
    await assert.rejects(e.set('big', { blob: 'x'.repeat(420 * 1024) }, inAnHour()), (err: unknown) => {
      return (
        err instanceof SessionTooLargeError &&
        err.code === 'ERR_SESSION_TOO_LARGE' &&
        err.limitBytes === 409600
      );
    });
    assert.equal(counter.writes(), 0);
    assert.deepEqual(await e.get('big'), { small: true });
  });

  test('a session just under the limit is stored', async () => {
    const e = engine();
    await e.set('almost', { blob: 'y'.repeat(380 * 1024) }, inAnHour());
    assert.equal(((await e.get('almost')) as { blob: string }).blob.length, 380 * 1024);
  });

  test('values that cannot be stored are refused with the path named', async () => {
    const e = engine();
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    const cases: [unknown, string][] = [
      [cyclic, 'session.self'],
      [{ n: 10n }, 'session.n'],
      [{ f: () => 1 }, 'session.f'],
      [{ s: Symbol('x') }, 'session.s'],
      [{ deep: { list: [1, 1e200] } }, 'session.deep.list[1]'],
    ];
    counter.reset();
    for (const [data, path] of cases) {
      await assert.rejects(e.set('bad', data as Record<string, unknown>, inAnHour()), (err: unknown) => {
        return err instanceof SessionDataError && err.code === 'ERR_SESSION_DATA' && err.path === path;
      });
    }
    assert.equal(counter.writes(), 0);
  });

  test('an empty or oversized id is refused on set, and reads as no session', async () => {
    const e = engine();
    await assert.rejects(e.set('', { a: 1 }, inAnHour()), InvalidSessionIdError);
    await assert.rejects(e.set('x'.repeat(3000), { a: 1 }, inAnHour()), { code: 'ERR_INVALID_SESSION_ID' });
    assert.equal(await e.get(''), null);
    assert.equal(await e.get('x'.repeat(3000)), null);
  });

  test('a malformed item is reported with the attribute named', async () => {
    await client.send(
      new PutItemCommand({
        TableName: tableName,
        Item: { id: { S: 'session#malformed' }, sess: { N: '1' }, expires: { N: String(inAnHour()) } },
      }),
    );
    await assert.rejects(engine().get('malformed'), (err: unknown) => {
      return err instanceof MalformedItemError && err.attribute === 'sess';
    });
  });

  test('a DynamoDB that accepts connections but never answers fails the call within the default timeouts', async () => {
    const sockets: Socket[] = [];
    const hung = createServer((socket) => sockets.push(socket)); // reads nothing, answers nothing
    await new Promise<void>((resolve) => hung.listen(0, '127.0.0.1', resolve));
    const { port } = hung.address() as AddressInfo;
    const e = new SessionEngine({
      tableName,
      clientConfig: {
        endpoint: `http://127.0.0.1:${port}`,
        region: 'us-east-1',
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      },
    });
    const started = Date.now();
    try {
      await assert.rejects(
        e.get('hung'),
        (err: unknown) => err instanceof StoreUnavailableError && err.status === 503,
      );
      // 3 attempts of at most 3 s, plus the SDK's short retry delays
      assert.ok(Date.now() - started < 15_000, `failed after ${Date.now() - started} ms`);
    } finally {
      for (const socket of sockets) socket.destroy();
      hung.close();
    }
  });

  test('a stopped DynamoDB is an error (503, cause kept), never an empty session', async () => {
    const e = new SessionEngine({ client: await downClient(), tableName });
    await assert.rejects(e.get('any'), (err: unknown) => {
      return (
        err instanceof StoreUnavailableError &&
        err.status === 503 &&
        err.operation === 'GetItem' &&
        err.cause instanceof Error &&
        (err as { code: string }).code !== 'ENOENT'
      );
    });
    await assert.rejects(e.set('any', { a: 1 }, inAnHour(), { loaded: null }), StoreUnavailableError);
    await assert.rejects(e.destroy('any'), StoreUnavailableError);
    assert.equal(e.stats().operations.GetItem?.errors, 1);
  });
});
