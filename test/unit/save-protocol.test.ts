/**
 * The save protocol's decisions on the in-memory table: each write's condition, the merge of
 * concurrent changes, and what is never written back. The integration tier attacks the same
 * promises through the three frameworks on DynamoDB Local.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { PutItemCommandInput, UpdateItemCommandInput } from '@aws-sdk/client-dynamodb';
import { engineOn } from '../../src/engine.ts';
import { hashOfId } from '../../src/format/keys.ts';
import { type EngineOptions, SessionConflictError } from '../../src/index.ts';
import { applyChanges, ownChanges } from '../../src/save/merge.ts';
import { MemoryTable } from './memory-table.ts';

const now = () => Math.floor(Date.now() / 1000);
const keyOf = (id: string) => `session#${hashOfId(id)}`;
const inAnHour = () => now() + 3600;

function setup(options: EngineOptions = {}) {
  const table = new MemoryTable();
  const transport = table.transport();
  const a = engineOn(transport, options); // a server
  const b = engineOn(transport, options); // another server, same table
  const reset = () => {
    for (const k of Object.keys(table.calls)) delete table.calls[k];
  };
  const item = (id: string) => table.items.get(keyOf(id));
  return { table, a, b, reset, item };
}

describe('own changes', () => {
  test('the keys a request set, changed or deleted against what it loaded, and nothing else', () => {
    const loaded = { a: 1, b: { c: [1, 2] }, d: 'x', gone: true };
    const saved = { a: 1, b: { c: [1, 3] }, d: 'x', added: 'new' };
    const changes = ownChanges(loaded, saved, saved);
    assert.deepEqual([...changes.set.keys()].sort(), ['added', 'b']);
    assert.deepEqual(changes.deleted, ['gone']);
    const fresh = { a: 9, b: { c: [] }, d: 'y', gone: true, other: 1 };
    assert.deepEqual(applyChanges(fresh, changes), {
      a: 9,
      b: { c: [1, 3] },
      d: 'y',
      other: 1,
      added: 'new',
    });
  });
});

describe('no lost updates', () => {
  test('a save over a version changed meanwhile re-applies only its own keys onto the fresh copy', async () => {
    const { a, b, item } = setup();
    await a.set('s', { user: 'ada' }, inAnHour(), { loaded: null });
    const slow = await a.load('s');
    const fast = await b.load('s');
    await b.set('s', { ...fast?.data, b: 1 }, inAnHour(), { loaded: fast });
    await a.set('s', { ...slow?.data, a: 1 }, inAnHour(), { loaded: slow });
    assert.deepEqual(await a.get('s'), { a: 1, b: 1, user: 'ada' });
    assert.equal(item('s')?.ver?.N, String((slow?.version ?? 0) + 2), 'two writes over the version loaded');
    assert.equal(a.stats().conflicts, 1);
  });

  test('a conflict costs one more write and no read: DynamoDB returns the item it found', async () => {
    const { table, a, b, reset } = setup();
    await a.set('c', { n: 0 }, inAnHour(), { loaded: null });
    const slow = await a.load('c');
    await b.set('c', { n: 0, other: 1 }, inAnHour(), { loaded: await b.load('c') });
    reset();
    await a.set('c', { n: 1 }, inAnHour(), { loaded: slow });
    assert.deepEqual(table.calls, { PutItem: 2 });
    assert.deepEqual(await a.get('c'), { n: 1, other: 1 });
  });

  test('two requests that change the same key: the later write wins', async () => {
    const { a, b } = setup();
    await a.set('k', { x: 0 }, inAnHour(), { loaded: null });
    const first = await a.load('k');
    const second = await b.load('k');
    await b.set('k', { x: 1 }, inAnHour(), { loaded: second });
    await a.set('k', { x: 2 }, inAnHour(), { loaded: first });
    assert.deepEqual(await a.get('k'), { x: 2 });
  });

  test('a key a request deleted stays deleted; keys others added stay', async () => {
    const { a, b } = setup();
    await a.set('d', { user: 'ada', flash: 'hi' }, inAnHour(), { loaded: null });
    const slow = await a.load('d');
    await b.set('d', { user: 'ada', flash: 'hi', cart: [1] }, inAnHour(), { loaded: await b.load('d') });
    await a.set('d', { user: 'ada' }, inAnHour(), { loaded: slow });
    assert.deepEqual(await a.get('d'), { cart: [1], user: 'ada' });
  });

  test('an unchanged request never writes its stale copy, whatever the cache remembers', async () => {
    for (const cacheSize of [10_000, 0]) {
      const { a, b } = setup({ cacheSize, touchAfter: 0 });
      await a.set('u', { v: 1 }, inAnHour(), { loaded: null });
      const slow = await a.load('u');
      await b.set('u', { v: 2 }, inAnHour(), { loaded: await b.load('u') });
      await a.set('u', { v: 1 }, inAnHour() + 10, { loaded: slow });
      assert.deepEqual(await a.get('u'), { v: 2 }, `cacheSize ${cacheSize}`);
    }
  });

  test('a save gives up with SessionConflictError when the session keeps changing, and writes nothing of its own', async () => {
    const { table, a } = setup();
    await a.set('busy', { n: 0 }, inAnHour(), { loaded: null });
    const loaded = await a.load('busy');
    let version = 1;
    table.beforeCall = (op) => {
      // another writer lands before every attempt of this save
      if (op !== 'PutItem') return;
      const current = table.items.get(keyOf('busy'));
      if (current) table.items.set(keyOf('busy'), { ...current, ver: { N: String(++version) } });
    };
    await assert.rejects(a.set('busy', { n: 1 }, inAnHour(), { loaded }), (e: unknown) => {
      return e instanceof SessionConflictError && e.code === 'ERR_SESSION_CONFLICT' && e.status === 503;
    });
    table.beforeCall = undefined;
    assert.deepEqual(await a.get('busy'), { n: 0 });
  });
});

describe('nothing comes back', () => {
  const gone: [string, (t: MemoryTable, id: string) => void][] = [
    ['deleted', (t, id) => t.items.delete(keyOf(id))],
    [
      'expired but not yet deleted by TTL',
      (t, id) => {
        const current = t.items.get(keyOf(id));
        if (current) t.items.set(keyOf(id), { ...current, expires: { N: String(now() - 5) } });
      },
    ],
  ];
  for (const [label, makeGone] of gone) {
    test(`a session ${label} between load and save is not written back by a change, a cookie change or a touch`, async () => {
      const { table, a, item } = setup({ touchAfter: 0 });
      for (const [id, data] of [
        ['changed', { user: 'ada', cart: 1 }],
        ['cookie', { user: 'ada', cookie: { originalMaxAge: 2_592_000_000 } }],
        ['touched', { user: 'ada' }],
      ] as const) {
        await a.set(id, { user: 'ada' }, inAnHour(), { loaded: null });
        const loaded = await a.load(id);
        makeGone(table, id);
        await a.set(id, data, inAnHour() + 60, { loaded });
        const after = item(id);
        assert.ok(after === undefined || Number(after.expires?.N) <= now(), `${id}: nothing live came back`);
      }
      assert.equal(a.stats().skipped, 3);
    });
  }

  test('a destroyed session: neither a save in flight nor a touch revives it, and the tombstone stays', async () => {
    const { a, b, item } = setup({ touchAfter: 0 });
    await a.set('t', { user: 'ada' }, inAnHour(), { loaded: null });
    const loaded = await a.load('t');
    await b.destroy('t');
    await a.set('t', { user: 'ada', more: 1 }, inAnHour(), { loaded });
    await a.set('t', { user: 'ada' }, inAnHour() + 60, { loaded });
    await a.touch('t', inAnHour() + 120);
    assert.ok(item('t')?.destroyed);
    assert.equal(item('t')?.sess, undefined);
  });

  test('with tombstoneSeconds 0 a loaded session destroyed meanwhile is still not written back', async () => {
    const { a, b, item } = setup({ tombstoneSeconds: 0 });
    await a.set('t0', { user: 'ada' }, inAnHour(), { loaded: null });
    const loaded = await a.load('t0');
    await b.destroy('t0');
    await a.set('t0', { user: 'ada', more: 1 }, inAnHour(), { loaded });
    assert.equal(item('t0'), undefined);
  });

  test('a touch never creates an item', async () => {
    const { table, a } = setup({ touchAfter: 0 });
    await a.touch('ghost', inAnHour());
    assert.equal(table.items.size, 0);
  });
});

describe('the conditions each write carries', () => {
  test('touch of a loaded session: the item exists, is live, has not expired and is the version loaded', async () => {
    const { table, a } = setup({ touchAfter: 0 });
    await a.set('c1', { n: 1 }, inAnHour(), { loaded: null });
    const loaded = await a.load('c1');
    let input: UpdateItemCommandInput | undefined;
    table.beforeCall = (op, i) => {
      if (op === 'UpdateItem') input = i as UpdateItemCommandInput;
    };
    await a.set('c1', { n: 1 }, inAnHour() + 10, { loaded });
    assert.equal(
      input?.ConditionExpression,
      'attribute_exists(#k) AND attribute_not_exists(#t) AND #e > :now AND #v = :v',
    );
    assert.deepEqual(input?.ExpressionAttributeValues?.[':v'], { N: String(loaded?.version) });
    assert.equal(input?.UpdateExpression, 'SET #e = :e');
    input = undefined;
    await a.touch('c1', inAnHour() + 20);
    assert.equal(
      (input as UpdateItemCommandInput | undefined)?.ConditionExpression,
      'attribute_exists(#k) AND attribute_not_exists(#t) AND #e > :now',
      'a touch without a load: live, whatever its version',
    );
  });

  test('save: the version loaded, live, unexpired; a new session: no live item', async () => {
    const { table, a } = setup();
    const puts: PutItemCommandInput[] = [];
    table.beforeCall = (op, i) => {
      if (op === 'PutItem') puts.push(i as PutItemCommandInput);
    };
    await a.set('c2', { n: 1 }, inAnHour(), { loaded: null });
    await a.set('c2', { n: 2 }, inAnHour(), { loaded: await a.load('c2') });
    assert.equal(puts[0]?.ConditionExpression, 'attribute_not_exists(#k) OR #e <= :now');
    assert.equal(puts[1]?.ConditionExpression, '#v = :v AND attribute_not_exists(#t) AND #e > :now');
    const first = Number(puts[0]?.Item?.ver?.N);
    assert.ok(Number.isSafeInteger(first) && first >= 1, 'a new session starts at a random version');
    assert.deepEqual(puts[1]?.ExpressionAttributeValues?.[':v'], { N: String(first) });
    assert.equal(puts[1]?.Item?.ver?.N, String(first + 1));
  });

  test('an item written without a version (an earlier store) is loaded as version 0 and moved as a new session', async () => {
    const { table, a } = setup();
    table.items.set('session#old', {
      id: { S: 'session#old' },
      sess: { M: { user: { S: 'ada' } } },
      expires: { N: String(inAnHour()) },
    });
    const loaded = await a.load('old');
    assert.equal(loaded?.version, 0);
    await a.set('old', { user: 'ada', n: 1 }, inAnHour(), { loaded });
    assert.ok(Number(table.items.get(keyOf('old'))?.ver?.N) >= 1);
    assert.equal(table.items.get('session#old'), undefined, 'moved from its plain id to its hashed key');
  });

  test("a new session never takes a live session's id: SessionIdInUseError, and the live one stays", async () => {
    const { a } = setup();
    await a.set('same-id', { user: 'ada', cart: [1] }, inAnHour(), { loaded: null });
    await assert.rejects(a.set('same-id', { user: 'bob' }, inAnHour(), { loaded: null }), {
      name: 'SessionIdInUseError',
      code: 'ERR_SESSION_ID_IN_USE',
    });
    assert.deepEqual(await a.get('same-id'), { cart: [1], user: 'ada' });
  });

  test('a new session whose first attempt landed (its answer lost, the call retried) is a success', async () => {
    const { table } = setup();
    let first = true;
    const put = table.transport().putItem;
    const transport = { ...table.transport() };
    // the write lands, then the answer is lost and the same put is sent again
    transport.putItem = async (input) => {
      if (first) {
        first = false;
        await put(input);
      }
      return put(input);
    };
    const engine = engineOn(transport);
    const written = await engine.set('retried', { user: 'ada' }, inAnHour(), { loaded: null });
    assert.deepEqual(written?.data, { user: 'ada' });
    assert.deepEqual(await engine.get('retried'), { user: 'ada' });
    assert.equal(engine.stats().conflicts, 0);
  });

  test('a new session may take the id of an expired item', async () => {
    const { table, a } = setup();
    table.items.set(keyOf('dead'), {
      id: { S: keyOf('dead') },
      destroyed: { N: String(now() - 100) },
      expires: { N: String(now() - 1) },
    });
    await a.set('dead', { fresh: true }, inAnHour(), { loaded: null });
    assert.deepEqual(await a.get('dead'), { fresh: true });
  });

  test('set without `loaded` reads the item and replaces it whole, unless a live tombstone is there', async () => {
    const { a, b } = setup();
    await a.set('blind', { x: 1, y: 2 });
    await a.set('blind', { z: 3 });
    assert.deepEqual(await a.get('blind'), { z: 3 });
    await b.destroy('blind');
    await a.set('blind', { back: true });
    assert.equal(await a.get('blind'), null);
  });
});

describe('input the engine refuses', () => {
  test('an expiry that is not a finite number is an InvalidArgumentError, before any call', async () => {
    const { table, a } = setup();
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, '1' as unknown as number]) {
      await assert.rejects(a.set('e', { n: 1 }, bad), {
        code: 'ERR_INVALID_ARGUMENT',
        argument: 'expiresAtSec',
      });
      await assert.rejects(a.touch('e', bad), { code: 'ERR_INVALID_ARGUMENT' });
    }
    assert.deepEqual(table.calls, {});
  });

  test('data whose toJSON() returns itself is a SessionDataError, not a stack overflow', async () => {
    const { a } = setup();
    class Selfish {
      a = 1;
      toJSON() {
        return this;
      }
    }
    await assert.rejects(a.set('j', { x: new Selfish() }), { code: 'ERR_SESSION_DATA', path: 'session.x' });
  });
});
