/**
 * The edges of the save protocol on DynamoDB Local, through the engine: changes made in place at any
 * depth, expiry-only writes over a newer version, the lifetime after a conflict, a move from the plain
 * id racing a logout, one attempt budget per save, ids in use, sessions nobody can open, and the
 * switch of `hashIds`. Each runs with a client passed in and with the engine's own client.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { before, describe, test } from 'node:test';
import {
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { hashOfId } from '../../src/format/keys.ts';
import {
  type EngineOptions,
  SessionConflictError,
  SessionEngine,
  SessionIdInUseError,
} from '../../src/index.ts';
import { freshTable, keyOf, localClient, localConfig } from './helpers.ts';

const client = await localClient();
let tableName = '';
const nowSec = () => Math.floor(Date.now() / 1000);
const inAnHour = () => nowSec() + 3600;
const inThirtyDays = () => nowSec() + 30 * 86_400;
const newId = () => randomBytes(24).toString('base64url');
const key = (id: string) => keyOf(id);

before(async () => {
  tableName = await freshTable(client);
});

type Data = Record<string, unknown>;

/** The two ways an app gives the engine its client: passed in, or made by the engine. */
const paths = [
  { name: 'client passed in', options: async (): Promise<EngineOptions<Data>> => ({ client }) },
  {
    name: 'own client',
    options: async (): Promise<EngineOptions<Data>> => ({ clientConfig: await localConfig() }),
  },
];

async function rawItem(itemKey: string) {
  const out = await client.send(
    new GetItemCommand({ TableName: tableName, Key: { id: { S: itemKey } }, ConsistentRead: true }),
  );
  return out.Item;
}

/** A second client whose hook runs before each call of the named command, once per `arm()`. */
async function hookedClient(command: string) {
  const hooked = await localClient();
  const state: { run: (() => Promise<void>) | undefined; calls: number } = { run: undefined, calls: 0 };
  hooked.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === command) {
        state.calls++;
        const run = state.run;
        if (run) await run();
      }
      return next(args);
    },
    { step: 'initialize', name: 'testHook' },
  );
  return { client: hooked, state };
}

for (const path of paths) {
  describe(`changes made in place (${path.name})`, () => {
    test('a change deep inside the loaded session is stored: push, splice, sort, index, nested delete', async () => {
      const opts = await path.options();
      for (const cacheSize of [undefined, 0]) {
        const e = new SessionEngine<Data>({ ...opts, tableName, ...(cacheSize === 0 && { cacheSize }) });
        const id = newId();
        await e.set(
          id,
          { cart: { items: ['a', 'c', 'b'] }, flash: { info: ['one'] }, passport: { user: 'ada' } },
          inAnHour(),
          { loaded: null },
        );
        const steps: [string, (d: Data) => void, Data][] = [
          [
            'push',
            (d) => (d.cart as { items: string[] }).items.push('book'),
            { items: ['a', 'c', 'b', 'book'] },
          ],
          [
            'splice',
            (d) => (d.cart as { items: string[] }).items.splice(0, 1),
            { items: ['c', 'b', 'book'] },
          ],
          ['sort', (d) => (d.cart as { items: string[] }).items.sort(), { items: ['b', 'book', 'c'] }],
          [
            'index',
            (d) => {
              (d.cart as { items: string[] }).items[0] = 'x';
            },
            { items: ['x', 'book', 'c'] },
          ],
        ];
        for (const [what, change, cart] of steps) {
          const loaded = await e.load(id);
          assert.ok(loaded);
          const json = loaded.json;
          change(loaded.data);
          assert.equal(loaded.json, json, `${what}: the record's JSON is what was loaded`);
          await e.set(id, loaded.data, inAnHour(), { loaded });
          assert.deepEqual((await e.get(id))?.cart, cart, `${what} is stored (cacheSize ${cacheSize})`);
        }
        const loaded = await e.load(id);
        assert.ok(loaded);
        delete (loaded.data.passport as Data).user;
        (loaded.data.flash as { info: string[] }).info.push('two');
        await e.set(id, loaded.data, inAnHour(), { loaded });
        const stored = await e.get(id);
        assert.deepEqual(stored?.passport, {}, "passport 0.5's logout is stored");
        assert.deepEqual(stored?.flash, { info: ['one', 'two'] });
        e.close();
      }
    });

    test('a change in place is kept when another server changed another key meanwhile', async () => {
      const opts = await path.options();
      const a = new SessionEngine<Data>({ ...opts, tableName });
      const b = new SessionEngine<Data>({ client, tableName });
      const id = newId();
      await a.set(id, { cart: { items: ['a'] }, n: 0 }, inAnHour(), { loaded: null });
      const slow = await a.load(id);
      const fast = await b.load(id);
      assert.ok(slow && fast);
      fast.data.n = 1;
      await b.set(id, fast.data, inAnHour(), { loaded: fast });
      (slow.data.cart as { items: string[] }).items.push('b');
      await a.set(id, slow.data, inAnHour(), { loaded: slow });
      assert.deepEqual(await b.get(id), { cart: { items: ['a', 'b'] }, n: 1 });
      assert.equal(a.stats().conflicts, 1);
      a.close();
    });

    test('a change made after a save, before the next save of the same request, is stored', async () => {
      const opts = await path.options();
      const e = new SessionEngine<Data>({ ...opts, tableName });
      const id = newId();
      await e.set(id, { list: [1] }, inAnHour(), { loaded: null });
      const loaded = await e.load(id);
      assert.ok(loaded);
      const data = loaded.data as { list: number[] };
      data.list.push(2);
      const first = e.set(id, data, inAnHour(), { loaded });
      // the app goes on changing its session while the first save is in flight
      data.list.push(3);
      const after = await first;
      assert.deepEqual((await e.get(id))?.list, [1, 2], 'the first save wrote what it was given');
      await e.set(id, data, inAnHour(), { loaded: after });
      assert.deepEqual((await e.get(id))?.list, [1, 2, 3]);
      e.close();
    });
  });

  describe(`expiry-only writes and the lifetime (${path.name})`, () => {
    test('an expiry-only write of a stale request never replaces a newer write\'s expiry ("remember me")', async () => {
      const opts = await path.options();
      const one = new SessionEngine<Data>({ ...opts, tableName, touchAfter: 0 });
      const two = new SessionEngine<Data>({ ...opts, tableName, touchAfter: 0 });
      const id = newId();
      const cookie = { originalMaxAge: 3_600_000 };
      await one.set(id, { cookie, user: 'ada' }, inAnHour(), { loaded: null });
      const slow = await two.load(id);
      const loaded = await one.load(id);
      assert.ok(slow && loaded);
      const remember = { cookie: { originalMaxAge: 30 * 86_400_000 }, user: 'ada' };
      await one.set(id, remember, inThirtyDays(), { loaded, lifetimeKeys: ['cookie'] });
      // the slow, unchanged request on the other server ends now, its expiry an hour off
      await two.set(id, slow.data, inAnHour() + 60, { loaded: slow, lifetimeKeys: ['cookie'] });
      const item = await rawItem(key(id));
      assert.ok(Number(item?.expires?.N) >= inThirtyDays() - 5, 'the 30-day expiry stands');
      assert.deepEqual((await one.get(id))?.cookie, remember.cookie);
      assert.equal(two.stats().skipped, 1, 'the stale write was skipped, and counted');
      one.close();
      two.close();
    });

    test('turning "remember me" off is kept after a conflict; a change elsewhere keeps the new lifetime', async () => {
      const opts = await path.options();
      const one = new SessionEngine<Data>({ ...opts, tableName });
      const two = new SessionEngine<Data>({ ...opts, tableName });
      const lifetimeKeys = ['cookie'];
      const id = newId();
      const long = { originalMaxAge: 30 * 86_400_000 };
      const short = { originalMaxAge: 3_600_000 };
      await one.set(id, { cookie: long, n: 0 }, inThirtyDays(), { loaded: null });
      const off = await one.load(id);
      const other = await two.load(id);
      assert.ok(off && other);
      await two.set(id, { cookie: long, n: 1 }, inThirtyDays(), { loaded: other, lifetimeKeys });
      await one.set(id, { cookie: short, n: 0 }, inAnHour(), { loaded: off, lifetimeKeys });
      let expires = Number((await rawItem(key(id)))?.expires?.N);
      assert.ok(expires <= inAnHour() + 5, `remember me stays off (expires in ${expires - nowSec()} s)`);
      assert.deepEqual(await one.get(id), { cookie: short, n: 1 });

      // the other way round: the lifetime was changed by the other request; this one changed data only
      const stale = await two.load(id);
      const fresh = await one.load(id);
      assert.ok(stale && fresh);
      await one.set(id, { cookie: long, n: 1 }, inThirtyDays(), { loaded: fresh, lifetimeKeys });
      await two.set(id, { cookie: short, n: 2 }, inAnHour(), { loaded: stale, lifetimeKeys });
      expires = Number((await rawItem(key(id)))?.expires?.N);
      assert.ok(expires >= inThirtyDays() - 5, 'the newer lifetime and its expiry stand');
      assert.deepEqual(await one.get(id), { cookie: long, n: 2 });
      one.close();
      two.close();
    });

    test('touch never creates, and never revives an item expired but not yet deleted by TTL', async () => {
      const opts = await path.options();
      const e = new SessionEngine<Data>({ ...opts, tableName, touchAfter: 0 });
      const gone = newId();
      await e.touch(gone, inAnHour());
      assert.equal(await rawItem(key(gone)), undefined, 'no item was created');
      const expired = newId();
      await e.set(expired, { user: 'ada' }, inAnHour(), { loaded: null });
      await client.send(
        new UpdateItemCommand({
          TableName: tableName,
          Key: { id: { S: key(expired) } },
          UpdateExpression: 'SET expires = :e',
          ExpressionAttributeValues: { ':e': { N: String(nowSec() - 10) } },
        }),
      );
      await e.touch(expired, inAnHour());
      assert.ok(Number((await rawItem(key(expired)))?.expires?.N) < nowSec(), 'still expired');
      assert.equal(await e.get(expired), null);
      e.close();
    });
  });

  describe(`new sessions and ids in use (${path.name})`, () => {
    test('a new session under a live id is refused whatever its data', async () => {
      const opts = await path.options();
      const a = new SessionEngine<Data>({ ...opts, tableName });
      const b = new SessionEngine<Data>({ ...opts, tableName });
      const id = newId();
      await a.set(id, { cookie: { path: '/' } }, inAnHour(), { loaded: null });
      await assert.rejects(
        b.set(id, { cookie: { path: '/' } }, inAnHour(), { loaded: null }),
        SessionIdInUseError,
      );
      await assert.rejects(b.set(id, { other: 1 }, inAnHour(), { loaded: null }), SessionIdInUseError);
      a.close();
      b.close();
    });

    test('a tombstone is not replaced by a new session under its id until it expires', async () => {
      const opts = await path.options();
      const e = new SessionEngine<Data>({ ...opts, tableName });
      const id = newId();
      await e.set(id, { user: 'ada' }, inAnHour(), { loaded: null });
      await e.destroy(id);
      assert.equal(await e.set(id, { user: 'eve' }, inAnHour(), { loaded: null }), null);
      assert.equal(await e.get(id), null);
      assert.ok((await rawItem(key(id)))?.destroyed, 'the tombstone stays');
      e.close();
    });
  });
}

describe('one attempt budget per save', () => {
  test('saves queued behind a conflicting one share its attempts: no retry one by one', async () => {
    const { client: busy, state } = await hookedClient('PutItemCommand');
    const e = new SessionEngine<Data>({ client: busy, tableName });
    const id = newId();
    await e.set(id, { n: 0 }, inAnHour(), { loaded: null });
    const loaded = await e.load(id);
    assert.ok(loaded);
    let bump = 0;
    // another writer changes the session before every write of this engine
    state.run = async () => {
      bump++;
      await client.send(
        new UpdateItemCommand({
          TableName: tableName,
          Key: { id: { S: key(id) } },
          UpdateExpression: 'SET ver = ver + :one, sess.bumped = :b',
          ExpressionAttributeValues: { ':one': { N: '1' }, ':b': { N: String(bump) } },
        }),
      );
    };
    state.calls = 0;
    const saves = [1, 2, 3, 4, 5].map((n) => e.set(id, { n }, inAnHour(), { loaded }));
    const results = await Promise.allSettled(saves);
    state.run = undefined;
    for (const r of results) {
      assert.equal(r.status, 'rejected');
      assert.ok(r.status === 'rejected' && r.reason instanceof SessionConflictError);
    }
    assert.ok(state.calls <= 16, `${state.calls} PutItem for 5 queued saves (one budget of 16 attempts)`);
    e.close();
  });
});

describe('sessions under the plain id', () => {
  async function plainSession(id: string, data: Data) {
    await client.send(
      new PutItemCommand({
        TableName: tableName,
        Item: {
          id: { S: `session#${id}` },
          sess: { M: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, { S: String(v) }])) },
          expires: { N: String(inAnHour()) },
        },
      }),
    );
  }

  test('with tombstoneSeconds 0, a save loaded before a logout never writes the session back', async () => {
    const a = new SessionEngine<Data>({ client, tableName, tombstoneSeconds: 0 });
    const b = new SessionEngine<Data>({ client, tableName, tombstoneSeconds: 0 });
    const id = newId();
    await plainSession(id, { user: 'ada' });
    const loaded = await a.load(id);
    assert.deepEqual(loaded?.data, { user: 'ada' });
    await b.destroy(id);
    await a.set(id, { user: 'ada', n: '1' }, inAnHour(), { loaded: loaded ?? null });
    assert.equal(await rawItem(key(id)), undefined, 'nothing under the hashed key');
    assert.equal(await rawItem(`session#${id}`), undefined, 'nothing under the plain id');
    assert.equal(await a.get(id), null);
  });

  test('a logout while the move is in flight (just before its write) still ends the session', async () => {
    const { client: hooked, state } = await hookedClient('PutItemCommand');
    const a = new SessionEngine<Data>({ client: hooked, tableName, tombstoneSeconds: 0 });
    const b = new SessionEngine<Data>({ client, tableName, tombstoneSeconds: 0 });
    const id = newId();
    await plainSession(id, { user: 'ada' });
    const loaded = await a.load(id);
    assert.ok(loaded);
    state.run = async () => {
      state.run = undefined;
      await b.destroy(id);
    };
    await a.set(id, { user: 'ada', n: '1' }, inAnHour(), { loaded });
    assert.equal(await rawItem(key(id)), undefined, 'the move was undone');
    assert.equal(await rawItem(`session#${id}`), undefined);
    assert.equal(await b.get(id), null);
  });

  test('a session written with hashIds false is kept when hashIds is switched on, and moves', async () => {
    const before = new SessionEngine<Data>({ client, tableName, hashIds: false });
    const after = new SessionEngine<Data>({ client, tableName });
    const id = newId();
    await before.set(id, { user: 'ada' }, inAnHour(), { loaded: null });
    const edited = await before.load(id);
    assert.ok(edited);
    await before.set(id, { user: 'ada', n: 1 }, inAnHour(), { loaded: edited });
    const loaded = await after.load(id);
    assert.deepEqual(loaded?.data, { n: 1, user: 'ada' }, 'still logged in');
    assert.ok(loaded);
    await after.set(id, { user: 'ada', n: 2 }, inAnHour(), { loaded });
    assert.equal(await rawItem(`session#${id}`), undefined, 'moved from the plain id');
    assert.deepEqual(await after.get(id), { n: 2, user: 'ada' });
    await after.destroy(id);
    assert.equal(await after.get(id), null);
  });

  test('a hashed key sent as an id never opens its session, whatever the version attribute is called', async () => {
    const id = newId();
    const writer = new SessionEngine<Data>({ client, tableName });
    await writer.set(id, { user: 'ada' }, inAnHour(), { loaded: null });
    for (const versionAttribute of ['ver', 'revision']) {
      const reader = new SessionEngine<Data>({ client, tableName, versionAttribute });
      assert.equal(await reader.get(hashOfId(id)), null, `versionAttribute ${versionAttribute}`);
      // a session of that "id" is stored under its own hashed key, never over the one it spells
      await reader.set(hashOfId(id), { user: 'eve' }, inAnHour() + 600, {});
      await reader.touch(hashOfId(id), inAnHour() + 900);
      await reader.destroy(hashOfId(id));
    }
    const item = await rawItem(key(id));
    assert.equal(item?.sess?.M?.user?.S, 'ada', 'the session under that key is untouched');
    assert.equal(item?.destroyed, undefined);
    await client.send(new DeleteItemCommand({ TableName: tableName, Key: { id: { S: key(id) } } }));
  });
});

describe('sessions nobody can open', () => {
  const oldKey = randomBytes(32);
  const newKey = randomBytes(32);

  test('a session sealed with a key since removed reads as no session, counted, and a new one can be made', async () => {
    const before = new SessionEngine<Data>({ client, tableName, encryption: { keyId: 'old', key: oldKey } });
    const after = new SessionEngine<Data>({ client, tableName, encryption: { keyId: 'new', key: newKey } });
    const id = newId();
    await before.set(id, { user: 'ada' }, inAnHour(), { loaded: null });
    assert.equal(await after.get(id), null);
    assert.equal(after.stats().unreadable, 1);
    const login = newId();
    await after.set(login, { user: 'ada' }, inAnHour(), { loaded: null });
    assert.deepEqual(await after.get(login), { user: 'ada' });
  });

  test('an altered sealed item reads as no session, never an error', async () => {
    const e = new SessionEngine<Data>({ client, tableName, encryption: { keyId: 'k', key: newKey } });
    const id = newId();
    await e.set(id, { user: 'ada' }, inAnHour(), { loaded: null });
    const item = await rawItem(key(id));
    const blob = Buffer.from(item?.sess?.B ?? new Uint8Array());
    blob[blob.length - 1] = (blob[blob.length - 1] ?? 0) ^ 1;
    await client.send(
      new UpdateItemCommand({
        TableName: tableName,
        Key: { id: { S: key(id) } },
        UpdateExpression: 'SET sess = :b',
        ExpressionAttributeValues: { ':b': { B: blob } },
      }),
    );
    assert.equal(await e.get(id), null);
    assert.equal(e.stats().unreadable, 1);
  });
});
