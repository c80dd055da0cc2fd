/**
 * Items keyed by a one-way hash of the session id, and sessions still under their plain id (written
 * by earlier versions) found and moved, on the in-memory table.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { engineOn } from '../../src/engine.ts';
import { hashOfId } from '../../src/format/keys.ts';
import { MemoryTable } from './memory-table.ts';

const inAnHour = () => Math.floor(Date.now() / 1000) + 3600;
const id = 'k3Jd8vQ2mX9pL0aZ4tR7yB1cN6eF5gH2';

function plainItem(key: string, data: Record<string, string>) {
  const sess = Object.fromEntries(Object.entries(data).map(([k, v]) => [k, { S: v }]));
  return { id: { S: key }, sess: { M: sess }, expires: { N: String(inAnHour()) } };
}

describe('hashed ids', () => {
  test('the item is keyed by the hash of the id, and nothing in it is the id', async () => {
    const table = new MemoryTable();
    const engine = engineOn(table.transport());
    await engine.set(id, { user: 'ada' }, inAnHour(), { loaded: null });
    assert.deepEqual([...table.items.keys()], [`session#${hashOfId(id)}`]);
    assert.ok(!JSON.stringify([...table.items.values()]).includes(id));
    assert.deepEqual(await engine.get(id), { user: 'ada' });
  });

  test('hashIds: false keys items by the plain id', async () => {
    const table = new MemoryTable();
    await engineOn(table.transport(), { hashIds: false }).set(id, { user: 'ada' }, inAnHour(), {
      loaded: null,
    });
    assert.deepEqual([...table.items.keys()], [`session#${id}`]);
  });

  test('a session found under its hashed key costs no read of the plain one', async () => {
    const table = new MemoryTable();
    const engine = engineOn(table.transport());
    await engine.set(id, { user: 'ada' }, inAnHour(), { loaded: null });
    for (const k of Object.keys(table.calls)) delete table.calls[k];
    await engine.load(id);
    assert.deepEqual(table.calls, { GetItem: 1 });
  });
});

describe('sessions under their plain id (earlier versions)', () => {
  test('are loaded, and stay where they are while nothing is due to be written', async () => {
    const table = new MemoryTable();
    table.items.set(`session#${id}`, plainItem(`session#${id}`, { user: 'ada' }));
    const engine = engineOn(table.transport());
    const loaded = await engine.load(id);
    assert.deepEqual(loaded?.data, { user: 'ada' });
    await engine.set(id, { user: 'ada' }, inAnHour(), { loaded });
    assert.deepEqual(
      [...table.items.keys()],
      [`session#${id}`],
      'an unchanged session inside touchAfter stays',
    );
  });

  test('move to the hashed key at their next write: the plain item is deleted', async () => {
    const table = new MemoryTable();
    table.items.set(`session#${id}`, plainItem(`session#${id}`, { user: 'ada' }));
    const engine = engineOn(table.transport());
    const loaded = await engine.load(id);
    const written = await engine.set(id, { user: 'ada', cart: '1' }, inAnHour(), { loaded });
    assert.deepEqual([...table.items.keys()], [`session#${hashOfId(id)}`]);
    assert.deepEqual(await engine.get(id), { cart: '1', user: 'ada' });
    // the next save of the same request is an ordinary one
    await engine.set(id, { user: 'ada', cart: '2' }, inAnHour(), { loaded: written });
    assert.deepEqual(await engine.get(id), { cart: '2', user: 'ada' });
  });

  test('a destroy removes the plain item too, so nothing of the session is left to find', async () => {
    const table = new MemoryTable();
    table.items.set(`session#${id}`, plainItem(`session#${id}`, { user: 'ada' }));
    const engine = engineOn(table.transport());
    const loaded = await engine.load(id);
    await engine.destroy(id);
    assert.equal(table.items.get(`session#${id}`), undefined);
    assert.ok(table.items.get(`session#${hashOfId(id)}`)?.destroyed);
    await engine.set(id, { user: 'ada', back: '1' }, inAnHour(), { loaded });
    assert.equal(await engine.get(id), null, 'a save in flight does not bring it back under either key');
  });

  test('with plainIdFallback: false, nothing looks under the plain id: no read, no touch, no delete', async () => {
    const table = new MemoryTable();
    const stored = plainItem(`session#${id}`, { user: 'ada' });
    table.items.set(`session#${id}`, stored);
    const engine = engineOn(table.transport(), { plainIdFallback: false, touchAfter: 0 });
    assert.equal(await engine.get(id), null);
    await engine.touch(id, inAnHour() + 7200);
    await engine.destroy(id);
    assert.deepEqual(table.items.get(`session#${id}`), stored, 'the plain item is as it was');
    // the get's two reads of the hashed key, the touch refused there, the tombstone
    assert.deepEqual(table.calls, { GetItem: 2, UpdateItem: 1, PutItem: 1 });
  });

  test('a session moved by another request meanwhile: this one re-applies its change onto it', async () => {
    const table = new MemoryTable();
    table.items.set(`session#${id}`, plainItem(`session#${id}`, { user: 'ada' }));
    const a = engineOn(table.transport());
    const b = engineOn(table.transport());
    const slow = await a.load(id);
    const fast = await b.load(id);
    await b.set(id, { user: 'ada', b: '1' }, inAnHour(), { loaded: fast });
    await a.set(id, { user: 'ada', a: '1' }, inAnHour(), { loaded: slow });
    assert.deepEqual(await a.get(id), { a: '1', b: '1', user: 'ada' });
  });
});
