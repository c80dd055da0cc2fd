/**
 * The engine's decisions on the in-memory table: which call it makes, under which condition. The
 * integration tier checks the same paths on DynamoDB Local.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { BatchGetItemCommandInput, GetItemCommandInput } from '@aws-sdk/client-dynamodb';
import { engineOn } from '../../src/engine.ts';
import { hashOfId } from '../../src/format/keys.ts';

const keyOf = (id: string) => `session#${hashOfId(id)}`;

import { type EngineOptions, StoreUnavailableError } from '../../src/index.ts';
import { MemoryTable, MemoryTableError } from './memory-table.ts';

const inAnHour = () => Math.floor(Date.now() / 1000) + 3600;

function setup(options: EngineOptions = {}) {
  const table = new MemoryTable();
  const engine = engineOn(table.transport(), options);
  const calls = () => ({ ...table.calls });
  const reset = () => {
    for (const k of Object.keys(table.calls)) delete table.calls[k];
  };
  return { table, engine, calls, reset };
}

describe('load and save', () => {
  test('a session never stored is null after one eventually consistent and one strong read', async () => {
    const { table, engine } = setup();
    const reads: string[] = [];
    table.beforeCall = (op, input) => {
      if (op === 'GetItem') reads.push(`GetItem ${(input as GetItemCommandInput).ConsistentRead === true}`);
      if (op === 'BatchGetItem') {
        const spec = Object.values((input as BatchGetItemCommandInput).RequestItems ?? {})[0];
        reads.push(`BatchGetItem ${spec?.ConsistentRead === true} ${spec?.Keys?.length}`);
      }
    };
    assert.equal(await engine.get('nobody'), null);
    // the strong re-read of the hashed key goes with a read of the plain id (where earlier versions wrote)
    // (eventually consistent: no version of this store writes plain ids, so none was written a moment ago)
    assert.deepEqual(reads, ['GetItem false', 'GetItem true', 'GetItem false']);
    reads.length = 0;
    assert.equal(await engineOn(table.transport(), { plainIdFallback: false }).get('nobody'), null);
    assert.deepEqual(reads, ['GetItem false', 'GetItem true']);
    reads.length = 0;
    assert.equal(await engineOn(table.transport(), { hashIds: false }).get('nobody'), null);
    assert.deepEqual(reads, ['GetItem false', 'GetItem true']);
  });

  test('set then load gives the data with sorted keys, its expiry and JSON text', async () => {
    const { engine } = setup();
    const expires = inAnHour();
    await engine.set('a', { b: 2, a: 1 }, expires);
    const record = await engine.load('a');
    assert.deepEqual(record?.data, { a: 1, b: 2 });
    assert.deepEqual(Object.keys(record?.data ?? {}), ['a', 'b']);
    assert.equal(record?.expiresAtSec, expires);
  });

  test('an item past its expiry is not served, although it is still in the table', async () => {
    const { table, engine } = setup();
    await engine.set('old', { a: 1 }, Math.floor(Date.now() / 1000) - 1);
    assert.ok(table.items.has(keyOf('old')));
    assert.equal(await engine.get('old'), null);
  });

  test('changed data is written whole with one PutItem', async () => {
    const { engine, calls, reset } = setup();
    await engine.set('c', { n: 1 }, inAnHour());
    const loaded = await engine.load('c');
    reset();
    await engine.set('c', { n: 2 }, inAnHour(), { loaded });
    assert.deepEqual(calls(), { PutItem: 1 });
  });
});

describe('unchanged sessions', () => {
  test('unchanged data inside touchAfter sends nothing', async () => {
    const { engine, calls, reset } = setup();
    const expires = inAnHour();
    await engine.set('u', { n: 1 }, expires);
    const loaded = await engine.load('u');
    reset();
    await engine.set('u', { n: 1 }, expires + 60, { loaded });
    assert.deepEqual(calls(), {});
  });

  test('unchanged data past touchAfter writes the expiry alone, with one UpdateItem', async () => {
    const { table, engine, calls, reset } = setup({ touchAfter: 60 });
    const expires = inAnHour();
    await engine.set('u', { n: 1 }, expires);
    const loaded = await engine.load('u');
    reset();
    await engine.set('u', { n: 1 }, expires + 61, { loaded });
    assert.deepEqual(calls(), { UpdateItem: 1 });
    assert.equal(table.items.get(keyOf('u'))?.expires?.N, String(expires + 61));
  });
});

describe('touch and destroy', () => {
  test('a touch never creates an item', async () => {
    const { table, engine } = setup({ touchAfter: 0 });
    await engine.touch('ghost', inAnHour());
    assert.equal(table.items.size, 0);
  });

  test('destroy leaves a tombstone; a save or a touch in flight cannot bring the session back', async () => {
    const { table, engine } = setup({ touchAfter: 0 });
    await engine.set('d', { n: 1 }, inAnHour());
    const loaded = await engine.load('d');
    await engine.destroy('d');
    await engine.set('d', { n: 2 }, inAnHour(), { loaded });
    await engine.touch('d', inAnHour() + 600);
    assert.equal(await engine.get('d'), null);
    assert.ok(table.items.get(keyOf('d'))?.destroyed, 'still a tombstone');
    assert.equal(table.items.get(keyOf('d'))?.sess, undefined);
  });

  test('with tombstoneSeconds 0, destroy deletes the item', async () => {
    const { table, engine } = setup({ tombstoneSeconds: 0 });
    await engine.set('d0', { n: 1 }, inAnHour());
    await engine.destroy('d0');
    assert.equal(table.items.size, 0);
  });
});

describe('failures', () => {
  test('a failing call is a StoreUnavailableError (503) with the cause, counted in stats()', async () => {
    const { table, engine } = setup();
    const cause = new MemoryTableError('ProvisionedThroughputExceededException', 'slow down');
    table.beforeCall = () => {
      throw cause;
    };
    await assert.rejects(engine.get('x'), (e: unknown) => {
      return e instanceof StoreUnavailableError && e.status === 503 && e.cause === cause && e.throttled;
    });
    const stats = engine.stats().operations.GetItem;
    assert.deepEqual([stats?.calls, stats?.errors, stats?.throttles], [1, 1, 1]);
  });

  test('close() of an engine without a client of its own does nothing', () => {
    const { engine } = setup();
    assert.doesNotThrow(() => engine.close());
  });
});

describe('per-user operations', () => {
  test("list and revoke a user's sessions through the table interface", async () => {
    const { engine } = setup({ userId: (s) => s.user as string | undefined });
    for (const id of ['p1', 'p2', 'p3']) await engine.set(id, { user: 'ada' }, inAnHour());
    await engine.set('q1', { user: 'bob' }, inAnHour());
    const listed = await engine.listUserSessions('ada', { current: 'p2' });
    assert.deepEqual(listed.map((s) => s.handle).sort(), ['p1', 'p2', 'p3'].map(hashOfId).sort());
    assert.deepEqual(
      listed.filter((s) => s.current).map((s) => s.handle),
      [hashOfId('p2')],
    );
    assert.deepEqual(await engine.destroyUserSessions('ada', { only: hashOfId('p1') }), { destroyed: 1 });
    assert.equal(await engine.get('p1'), null, 'one device revoked by its handle');
    assert.deepEqual(await engine.destroyUserSessions('ada', { except: 'p2' }), { destroyed: 1 });
    assert.deepEqual(
      (await engine.listUserSessions('ada')).map((s) => s.handle),
      [hashOfId('p2')],
    );
    assert.deepEqual(await engine.get('q1'), { user: 'bob' });
  });

  test("revoking a user's sessions skips one the lagging index still lists under the user", async () => {
    const { table, engine } = setup({ userId: (s) => s.user as string | undefined });
    await engine.set('mine', { user: 'ada' }, inAnHour(), { loaded: null });
    await engine.set('moved', { user: 'ada' }, inAnHour(), { loaded: null });
    const moved = await engine.load('moved');
    await engine.set('moved', { user: 'bob' }, inAnHour(), { loaded: moved }); // another login took it over
    table.staleIndex = [
      [keyOf('mine'), 'ada'],
      [keyOf('moved'), 'ada'],
    ];
    assert.deepEqual(await engine.destroyUserSessions('ada'), { destroyed: 1 });
    assert.deepEqual(await engine.get('moved'), { user: 'bob' });
    assert.equal(await engine.get('mine'), null);
  });

  test('a bad user id is an InvalidArgumentError, before any call', async () => {
    const { engine, calls } = setup({ userId: () => 'x' });
    await assert.rejects(engine.listUserSessions(''), { code: 'ERR_INVALID_ARGUMENT', argument: 'userId' });
    await assert.rejects(engine.listUserSessions('u', { pageSize: 0 }), { code: 'ERR_INVALID_ARGUMENT' });
    assert.deepEqual(calls(), {});
  });
});
