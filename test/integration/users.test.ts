import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { after, before, describe, test } from 'node:test';
import {
  type AttributeValue,
  type BatchGetItemCommandInput,
  type BatchGetItemCommandOutput,
  type BatchWriteItemCommandInput,
  type DynamoDBClient,
  GetItemCommand,
} from '@aws-sdk/client-dynamodb';
import express from 'express';
import session from 'express-session';
import { DynamoDBStore, type DynamoDBStoreOptions } from '../../adapters/express.ts';
import { hashOfId } from '../../src/format/keys.ts';
import {
  type EngineOptions,
  MissingIndexError,
  SessionEngine,
  StoreUnavailableError,
} from '../../src/index.ts';
import {
  CookieJar,
  clientWithFailingWrites,
  countCommands,
  freshTable,
  keyOf,
  listen,
  localClient,
  request,
} from './helpers.ts';

const client = await localClient();
const counter = countCommands(client);
let table = '';
const inAnHour = () => Math.floor(Date.now() / 1000) + 3600;
const uidOf = (s: Record<string, unknown>) => (typeof s.uid === 'string' ? s.uid : undefined);

before(async () => {
  table = await freshTable(client, { userIndex: true });
});

function engine(options: EngineOptions = {}) {
  return new SessionEngine({ client, tableName: table, userId: uidOf, ...options });
}

async function rawItem(key: string) {
  const out = await client.send(
    new GetItemCommand({ TableName: table, Key: { id: { S: key } }, ConsistentRead: true }),
  );
  return out.Item;
}

/**
 * Asserts a MissingIndexError whose message names the index, and says `pattern`, but no table and no
 * command (a message can reach a visitor), while its `advice` says how to add the index.
 */
async function rejectsMissingIndex(promise: Promise<unknown>, pattern: RegExp, advice?: RegExp) {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof MissingIndexError);
    assert.equal(err.code, 'ERR_MISSING_INDEX');
    assert.equal(err.index, 'uid-index');
    assert.match(err.message, /"uid-index"/);
    assert.match(err.message, pattern);
    assert.doesNotMatch(err.message, /npx|addUserIndex|t_[0-9a-f]{12}/);
    assert.match(err.advice ?? '', /npx dynamodb-sessions create-table --table \S+ --user-index/);
    assert.match(err.advice ?? '', /addUserIndex\(client, \{ tableName: '[^']+' \}\)/);
    if (advice) assert.match(err.advice ?? '', advice);
    return true;
  });
}

/**
 * Lets only `perCall` keys of each `BatchGetItem` through to DynamoDB Local and answers the rest as
 * unprocessed, as DynamoDB does when it throttles part of a batch.
 */
function throttleBatchGets(target: DynamoDBClient, perCall: number) {
  target.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName !== 'BatchGetItemCommand') return next(args);
      const input = args.input as BatchGetItemCommandInput;
      const [name, spec] = Object.entries(input.RequestItems ?? {})[0] ?? ['', { Keys: [] }];
      const keys = spec.Keys ?? [];
      const result = await next({
        ...args,
        input: { ...input, RequestItems: { [name]: { ...spec, Keys: keys.slice(0, perCall) } } },
      });
      const rest = keys.slice(perCall);
      if (rest.length)
        (result.output as BatchGetItemCommandOutput).UnprocessedKeys = { [name]: { ...spec, Keys: rest } };
      return result;
    },
    { step: 'initialize', name: 'throttleBatchGets' },
  );
}

/** Tracks how many `command`s a client has in flight at once: `most` is the highest seen. */
function inFlight(target: DynamoDBClient, command: string) {
  const seen = { now: 0, most: 0 };
  target.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName !== command) return next(args);
      seen.most = Math.max(seen.most, ++seen.now);
      try {
        return await next(args);
      } finally {
        seen.now--;
      }
    },
    { step: 'initialize', name: `inFlight${command}` },
  );
  return seen;
}

/**
 * Runs `reown` (another server giving the session another owner) just before `target` sends the
 * first write of the item under `itemKey`: after the revocation has listed it, before it writes it.
 */
function reownBeforeWrite(target: DynamoDBClient, itemKey: string, reown: () => Promise<unknown>) {
  const moves = { done: 0 };
  target.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as BatchWriteItemCommandInput & {
        Item?: Record<string, AttributeValue>;
        Key?: Record<string, AttributeValue>;
      };
      const requests = Object.values(input.RequestItems ?? {}).flat();
      const keys = [
        input.Item?.id?.S ?? input.Key?.id?.S,
        ...requests.map((r) => r.PutRequest?.Item?.id?.S ?? r.DeleteRequest?.Key?.id?.S),
      ];
      const write = /^(Put|Delete|BatchWrite)ItemCommand$/.test(String(context.commandName));
      if (write && keys.includes(itemKey) && moves.done === 0) {
        moves.done++;
        await reown();
      }
      return next(args);
    },
    { step: 'initialize', name: 'reownBeforeWrite' },
  );
  return moves;
}

describe('listUserSessions', () => {
  test("lists a user's live sessions with their expiry, not other users' nor another prefix's", async () => {
    const e = engine();
    const other = engine({ prefix: 'other-app#' });
    const exp = inAnHour();
    await e.set('l-a1', { uid: 'lister' }, exp);
    await e.set('l-a2', { uid: 'lister', cart: [1] }, exp + 60);
    await e.set('l-b1', { uid: 'someone-else' }, exp);
    await e.set('l-anon', { cart: [] }, exp);
    await other.set('l-o1', { uid: 'lister' }, exp); // same user id, same table, another app
    // each entry names its session by the hash that keys it, never by its id (a working cookie)
    assert.deepEqual(await e.listUserSessions('lister', { current: 'l-a1' }), [
      { handle: hashOfId('l-a2'), expiresAtSec: exp + 60, current: false },
      { handle: hashOfId('l-a1'), expiresAtSec: exp, current: true },
    ]);
    assert.deepEqual(await other.listUserSessions('lister'), [
      { handle: hashOfId('l-o1'), expiresAtSec: exp, current: false },
    ]);
    assert.deepEqual(await e.listUserSessions('nobody'), []);
  });

  test('leaves out expired sessions that TTL has not deleted yet, and destroyed ones', async () => {
    const e = engine();
    const now = Math.floor(Date.now() / 1000);
    await e.set('x-live', { uid: 'expiring' }, now + 600);
    await e.set('x-expired', { uid: 'expiring' }, now - 5);
    await e.set('x-destroyed', { uid: 'expiring' }, now + 600);
    await e.destroy('x-destroyed');
    assert.ok(await rawItem(keyOf('x-expired')), 'the expired item is still in the table');
    assert.deepEqual(
      (await e.listUserSessions('expiring')).map((s) => s.handle),
      [hashOfId('x-live')],
    );
  });

  test('rejects an empty user id (instead of listing nothing) and a page size below 1', async () => {
    await assert.rejects(engine().listUserSessions(''), {
      name: 'InvalidArgumentError',
      code: 'ERR_INVALID_ARGUMENT',
    });
    await assert.rejects(engine().destroyUserSessions(''), {
      name: 'InvalidArgumentError',
      code: 'ERR_INVALID_ARGUMENT',
    });
    await assert.rejects(
      engine().listUserSessions('u', { pageSize: 0 }),
      /invalid argument pageSize: expected a whole number >= 1/,
    );
  });
});

describe('a user with 120 sessions', () => {
  const ids = Array.from({ length: 120 }, (_, i) => `many-${String(i).padStart(3, '0')}`);

  before(async () => {
    const e = engine();
    for (let i = 0; i < ids.length; i += 20) {
      await Promise.all(ids.slice(i, i + 20).map((id) => e.set(id, { uid: 'many' }, inAnHour())));
    }
  });

  test('are listed over several Query pages and BatchGetItem calls, retrying unprocessed keys', async () => {
    const throttled = await localClient();
    throttleBatchGets(throttled, 40);
    const counter = countCommands(throttled);
    const e = engine({ client: throttled });
    const listed = await e.listUserSessions('many', { pageSize: 50 });
    assert.deepEqual(listed.map((s) => s.handle).sort(), ids.map(hashOfId).sort());
    // 120 keys at 50 a page: 3 pages (a 4th, empty one when the last page ends exactly)
    assert.ok(counter.of('QueryCommand') >= 3, `Query calls: ${counter.of('QueryCommand')}`);
    // 100 + 20 keys, 40 let through per call: 40+40+20 then 20
    assert.equal(counter.of('BatchGetItemCommand'), 4);
  });

  test('are all destroyed, one conditional write each, at most 8 at a time', async () => {
    const watched = await localClient();
    const counter = countCommands(watched);
    const writes = inFlight(watched, 'PutItemCommand');
    const e = engine({ client: watched });
    assert.deepEqual(await e.destroyUserSessions('many', { pageSize: 50 }), { destroyed: 120 });
    assert.ok(counter.of('QueryCommand') >= 3, `Query calls: ${counter.of('QueryCommand')}`);
    // the write's condition checks the owner: no read before it, and no unconditional batch
    assert.equal(counter.of('BatchGetItemCommand'), 0);
    assert.equal(counter.of('BatchWriteItemCommand'), 0);
    assert.equal(counter.of('PutItemCommand'), 120);
    assert.ok(writes.most > 1 && writes.most <= 8, `writes in flight at once: ${writes.most}`);
    assert.deepEqual(await e.listUserSessions('many'), []);
    for (const id of [ids[0], ids[57], ids[119]]) assert.equal(await engine().get(id ?? ''), null);
    assert.deepEqual(await e.destroyUserSessions('many'), { destroyed: 0 }, 'a retry finds nothing left');
  });
});

describe('destroyUserSessions', () => {
  test('keeps the sessions in `except`, and is safe to retry', async () => {
    const e = engine();
    for (const id of ['d-1', 'd-2', 'd-3', 'd-4']) await e.set(id, { uid: 'retry' }, inAnHour());
    await e.set('d-other', { uid: 'retry-other' }, inAnHour());
    assert.deepEqual(await e.destroyUserSessions('retry', { except: ['d-1', 'd-3'] }), { destroyed: 2 });
    assert.deepEqual(await e.destroyUserSessions('retry', { except: 'd-1' }), { destroyed: 1 });
    assert.deepEqual(await e.destroyUserSessions('retry', { except: 'd-1' }), { destroyed: 0 });
    assert.deepEqual(
      (await e.listUserSessions('retry')).map((s) => s.handle),
      [hashOfId('d-1')],
    );
    assert.deepEqual(await e.get('d-other'), { uid: 'retry-other' });
    const tombstone = await rawItem(keyOf('d-2'));
    assert.ok(tombstone?.destroyed, 'a tombstone replaces the session');
    assert.equal(tombstone?.uid, undefined, 'the tombstone has left the index');
  });

  test('a save of the unchanged session by this process does not bring it back', async () => {
    const e = engine({ touchAfter: 0 });
    await e.set('c-1', { uid: 'cached' }, inAnHour());
    assert.deepEqual(await e.destroyUserSessions('cached'), { destroyed: 1 });
    await e.set('c-1', { uid: 'cached' }, inAnHour() + 60);
    await e.set('c-1', { uid: 'cached', changed: true }, inAnHour() + 60);
    assert.equal(await e.get('c-1'), null);
    assert.ok((await rawItem(keyOf('c-1')))?.destroyed);
  });

  test('deletes the items when tombstoneSeconds is 0', async () => {
    const e = engine({ tombstoneSeconds: 0, prefix: 'del#' });
    await e.set('z-1', { uid: 'deleted' }, inAnHour());
    await e.set('z-2', { uid: 'deleted' }, inAnHour());
    assert.ok(await rawItem(keyOf('z-1', 'del#')), 'stored under its hashed key');
    assert.deepEqual(await e.destroyUserSessions('deleted'), { destroyed: 2 });
    assert.equal(await rawItem(keyOf('z-1', 'del#')), undefined);
    assert.equal(await rawItem(keyOf('z-2', 'del#')), undefined);
  });

  test('a failed write fails the call with StoreUnavailableError; a retry finishes the job and counts only its own', async () => {
    const e = engine();
    for (let i = 0; i < 20; i++) await e.set(`g-${i}`, { uid: 'stuck' }, inAnHour());
    const { client: failing, failures } = await clientWithFailingWrites();
    failures.left = 1;
    await assert.rejects(engine({ client: failing }).destroyUserSessions('stuck'), (err: unknown) => {
      assert.ok(err instanceof StoreUnavailableError);
      assert.equal(err.operation, 'PutItem');
      return true;
    });
    const left = (await e.listUserSessions('stuck')).length;
    assert.ok(left >= 1 && left < 20, `sessions left after the failure: ${left}`);
    // what was written stays written: a retry on a healthy client destroys the rest, and says so
    assert.deepEqual(await e.destroyUserSessions('stuck'), { destroyed: left });
    assert.deepEqual(await e.listUserSessions('stuck'), []);
  });

  for (const tombstoneSeconds of [undefined, 0]) {
    const mode = tombstoneSeconds === 0 ? 'deleted' : 'tombstoned';
    test(`a session given another owner between the listing and the write is left alone and not counted (${mode})`, async () => {
      const prefix = tombstoneSeconds === 0 ? 'reown0#' : 'reown#';
      const e = engine({ prefix, ...(tombstoneSeconds !== undefined && { tombstoneSeconds }) });
      await e.set('r-keep', { uid: 'owner' }, inAnHour());
      await e.set('r-moved', { uid: 'owner' }, inAnHour());
      // another server logs someone else into r-moved right before the revocation writes it
      const racing = await localClient();
      const moves = reownBeforeWrite(racing, keyOf('r-moved', prefix), () =>
        engine({ prefix }).set('r-moved', { uid: 'mallory' }, inAnHour()),
      );
      const result = await engine({
        client: racing,
        prefix,
        ...(tombstoneSeconds !== undefined && { tombstoneSeconds }),
      }).destroyUserSessions('owner');
      assert.equal(moves.done, 1, 'the owner changed after the listing, before the write');
      assert.deepEqual(result, { destroyed: 1 });
      assert.deepEqual(await e.get('r-moved'), { uid: 'mallory' }, "mallory's session is not revoked");
      assert.equal((await rawItem(keyOf('r-moved', prefix)))?.destroyed, undefined);
      assert.equal(await e.get('r-keep'), null);
    });
  }
});

describe('without the user index', () => {
  test('an engine without the userId option throws MissingIndexError naming the index', async () => {
    const e = new SessionEngine({ client, tableName: table });
    await rejectsMissingIndex(e.listUserSessions('u'), /userId option is not set/);
    await rejectsMissingIndex(e.destroyUserSessions('u'), /userId option is not set/);
  });

  test('a table without the index throws MissingIndexError naming the index; its advice names the table', async () => {
    const bare = await freshTable(client);
    const e = new SessionEngine({ client, tableName: bare, userId: uidOf });
    await e.set('b-1', { uid: 'u' }, inAnHour());
    await rejectsMissingIndex(e.listUserSessions('u'), /is missing from the table/, new RegExp(`"${bare}"`));
    await rejectsMissingIndex(e.destroyUserSessions('u'), /is missing from the table/, /specified index/);
    assert.deepEqual(await e.get('b-1'), { uid: 'u' }, 'sessions themselves still work');
  });
});

/** An express app whose sessions belong to `req.session.user`. */
async function expressApp(options: DynamoDBStoreOptions) {
  const store = new DynamoDBStore(options);
  const app = express();
  app.use(express.json());
  app.use(
    session({
      store,
      secret: 'test secret',
      resave: false,
      saveUninitialized: false,
      cookie: { maxAge: 3_600_000 },
    }),
  );
  let gate: Promise<void> = Promise.resolve();
  let entered: () => void = () => {};
  const bag = (req: express.Request) => req.session as unknown as Record<string, unknown>;
  app.post('/login', (req, res) => {
    bag(req).user = req.body.user;
    res.json({ id: req.sessionID });
  });
  app.get('/me', (req, res) => {
    res.json({ user: bag(req).user ?? null, id: req.sessionID });
  });
  app.post('/logout', (req, res, next) => req.session.destroy((err) => (err ? next(err) : res.json({}))));
  app.get('/devices', async (req, res) => {
    res.json(await store.engine.listUserSessions(String(bag(req).user)));
  });
  app.post('/logout-others', async (req, res) => {
    res.json(await store.engine.destroyUserSessions(String(bag(req).user), { except: req.sessionID }));
  });
  // changes the session, but only finishes when the test says so: a request in flight
  app.post('/slow', async (req, res) => {
    bag(req).visits = Number(bag(req).visits ?? 0) + 1;
    entered();
    await gate;
    res.json({ visits: bag(req).visits });
  });
  const server: Server = createServer(app);
  const base = await listen(server);
  return {
    base,
    store,
    hold() {
      let release: () => void = () => {};
      gate = new Promise((resolve) => {
        release = resolve;
      });
      const inside = new Promise<void>((resolve) => {
        entered = resolve;
      });
      return { inside, release: () => release() };
    },
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

/** The user a session belongs to: express-session's data with a `user` set at login. */
function userOf(s: object): string | undefined {
  const user: unknown = Reflect.get(s, 'user');
  return typeof user === 'string' ? user : undefined;
}

describe('express: log out other devices', () => {
  let app: Awaited<ReturnType<typeof expressApp>>;
  before(async () => {
    app = await expressApp({ client, tableName: table, userId: userOf });
  });
  after(() => app.close());

  test('lists every device, then revoking all but the current one logs out only the others', async () => {
    const [phone, laptop, tablet, bobs] = [
      new CookieJar(),
      new CookieJar(),
      new CookieJar(),
      new CookieJar(),
    ];
    const ids = new Map<CookieJar, string>();
    for (const jar of [phone, laptop, tablet]) {
      const res = await request(app.base, '/login', jar, { method: 'POST', body: { user: 'ada' } });
      ids.set(jar, (res.body as { id: string }).id);
    }
    await request(app.base, '/login', bobs, { method: 'POST', body: { user: 'bob' } });

    const listed = await request(app.base, '/devices', laptop);
    assert.deepEqual(
      (listed.body as { handle: string }[]).map((s) => s.handle).sort(),
      [...ids.values()].map(hashOfId).sort(),
    );

    const revoked = await request(app.base, '/logout-others', laptop, { method: 'POST' });
    assert.deepEqual(revoked.body, { destroyed: 2 });

    for (const jar of [phone, tablet]) {
      const me = await request(app.base, '/me', jar);
      assert.equal((me.body as { user: unknown }).user, null, 'the other devices are anonymous');
      assert.notEqual((me.body as { id: string }).id, ids.get(jar));
    }
    assert.deepEqual(await request(app.base, '/me', laptop).then((r) => r.body), {
      user: 'ada',
      id: ids.get(laptop),
    });
    assert.equal(((await request(app.base, '/me', bobs)).body as { user: unknown }).user, 'bob');
    const after = await request(app.base, '/devices', laptop);
    assert.deepEqual(
      (after.body as { handle: string }[]).map((s) => s.handle),
      [hashOfId(ids.get(laptop) ?? '')],
    );
  });

  test("a revoked device's request in flight does not bring its session back", async () => {
    const [phone, laptop] = [new CookieJar(), new CookieJar()];
    const phoneId = (
      (await request(app.base, '/login', phone, { method: 'POST', body: { user: 'eve' } })).body as {
        id: string;
      }
    ).id;
    await request(app.base, '/login', laptop, { method: 'POST', body: { user: 'eve' } });

    const held = app.hold();
    const inFlight = request(app.base, '/slow', phone, { method: 'POST' });
    await held.inside; // the phone's session is loaded and modified, not yet saved
    assert.deepEqual((await request(app.base, '/logout-others', laptop, { method: 'POST' })).body, {
      destroyed: 1,
    });
    counter.reset();
    held.release();
    const done = await inFlight;
    assert.deepEqual([done.status, done.body], [200, { visits: 1 }]);
    assert.equal(counter.of('PutItemCommand'), 1, 'the save was tried, and refused by its condition');

    assert.equal(await app.store.engine.get(phoneId), null);
    assert.ok((await rawItem(keyOf(phoneId)))?.destroyed, 'still a tombstone');
    assert.equal(((await request(app.base, '/me', phone)).body as { user: unknown }).user, null);
    assert.equal(((await request(app.base, '/me', laptop)).body as { user: unknown }).user, 'eve');
  });
});

describe('write units per login', () => {
  /** WCU of one login, one touch of the unchanged session and one logout, as DynamoDB reports them. */
  async function measure(options: DynamoDBStoreOptions) {
    const app = await expressApp({ client, capacity: true, touchAfter: 0, ...options });
    try {
      const jar = new CookieJar();
      const wcu = () => app.store.engine.stats().total.wcu;
      await request(app.base, '/login', jar, { method: 'POST', body: { user: 'ada' } });
      const login = wcu();
      await request(app.base, '/me', jar);
      const touch = wcu() - login;
      await request(app.base, '/logout', jar, { method: 'POST' });
      return { login, touch, logout: wcu() - login - touch };
    } finally {
      await app.close();
    }
  }

  test('the user index adds one unit to a login and a logout, none to a touch (KEYS_ONLY)', async () => {
    const without = await measure({ tableName: await freshTable(client) });
    const withIndex = await measure({ tableName: table, userId: userOf });
    console.log('WCU without the user index %o, with it %o', without, withIndex);
    assert.deepEqual(without, { login: 1, touch: 1, logout: 1 });
    assert.deepEqual(withIndex, { login: 2, touch: 1, logout: 2 });
  });

  test('revoking a session costs 2 units: its tombstone, and the index entry that goes with it', async () => {
    const e = engine({ capacity: true, prefix: 'wcu#' });
    for (const id of ['w-1', 'w-2', 'w-3']) await e.set(id, { uid: 'costly' }, inAnHour());
    const before = e.stats().total.wcu;
    assert.deepEqual(await e.destroyUserSessions('costly'), { destroyed: 3 });
    assert.equal(e.stats().total.wcu - before, 6);
  });
});
