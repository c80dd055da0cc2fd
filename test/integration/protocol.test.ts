/**
 * The engine's side of the save protocol that no framework reaches: input it cannot store is
 * refused with a typed error before anything is written.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { SessionEngine } from '../../src/index.ts';
import { freshTable, localClient } from './helpers.ts';
import { nowSec, RawTable } from './protocol-apps.ts';

const client = await localClient();
let raw: RawTable;
let engine: SessionEngine;

before(async () => {
  raw = new RawTable(client, await freshTable(client));
  engine = new SessionEngine({ client, tableName: raw.tableName });
});

describe('input the engine cannot store is refused with a typed error', () => {
  test('data whose toJSON() returns the object itself is refused with ERR_SESSION_DATA; nothing is written', async () => {
    const top: Record<string, unknown> = { user: 'ada' };
    top.toJSON = () => top;
    await assert.rejects(engine.set('self-json-top', top), { code: 'ERR_SESSION_DATA' });
    assert.equal(await raw.item('self-json-top'), undefined);

    const profile: Record<string, unknown> = { name: 'ada' };
    profile.toJSON = () => profile;
    await assert.rejects(engine.set('self-json-nested', { user: 'ada', profile }), (err: unknown) => {
      const e = err as { code?: string; path?: string };
      assert.equal(e.code, 'ERR_SESSION_DATA', String(err));
      assert.match(String(e.path), /profile/, 'the error names where the value is');
      return true;
    });
    assert.equal(await raw.item('self-json-nested'), undefined);
  });

  for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
    test(`an expiry of ${bad} is refused by set and touch with ERR_INVALID_ARGUMENT; nothing is written`, async () => {
      const fresh = `bad-expiry-set-${bad}`;
      await assert.rejects(engine.set(fresh, { user: 'ada' }, bad), { code: 'ERR_INVALID_ARGUMENT' });
      assert.equal(await raw.item(fresh), undefined);

      const live = `bad-expiry-touch-${bad}`;
      const expires = nowSec() + 3600;
      await engine.set(live, { user: 'ada' }, expires);
      await assert.rejects(engine.touch(live, bad), { code: 'ERR_INVALID_ARGUMENT' });
      await assert.rejects(engine.set(live, { user: 'bob' }, bad), { code: 'ERR_INVALID_ARGUMENT' });
      assert.equal(await raw.expiry(live), expires, 'the stored expiry is unchanged');
      assert.equal(await raw.stored(live, 'user'), 'ada', 'the stored data is unchanged');
    });
  }
});
