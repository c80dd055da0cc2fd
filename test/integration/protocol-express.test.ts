/**
 * The save protocol through Express 5 and express-session (`resave: false`, `saveUninitialized:
 * false`), and `touch` called through the store's public API.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import type { Request } from 'express';
import type { SessionData } from 'express-session';
import { DynamoDBStore } from '../../adapters/express.ts';
import { freshTable, localClient } from './helpers.ts';
import { DAY_MS, nowSec, RawTable, REMEMBER_MS } from './protocol-apps.ts';
import { protocolSuite } from './protocol-suite.ts';

for (const cache of ['default', 'off', 'evicted'] as const) protocolSuite({ framework: 'express', cache });
protocolSuite({ framework: 'express', cache: 'default', ownClient: true });

const client = await localClient();

describe('express store.touch through the public API', () => {
  let raw: RawTable;
  before(async () => {
    raw = new RawTable(client, await freshTable(client));
  });

  const stores = () =>
    [undefined, 0].map(
      (cacheSize) =>
        new DynamoDBStore({
          client,
          tableName: raw.tableName,
          touchAfter: 0,
          ...(cacheSize !== undefined && { cacheSize }),
        }),
    );

  /** Saves a logged-in session, then loads it as express-session does (`get`, then `createSession`). */
  async function loadLive(store: DynamoDBStore, id: string) {
    const cookie = {
      originalMaxAge: DAY_MS,
      expires: new Date(Date.now() + DAY_MS),
      path: '/',
      httpOnly: true,
    };
    await new Promise<void>((resolve, reject) =>
      store.set(id, { cookie, user: 'ada' } as unknown as SessionData, (err) =>
        err ? reject(err) : resolve(),
      ),
    );
    const loaded = await new Promise<SessionData | null | undefined>((resolve, reject) =>
      store.get(id, (err, sess) => (err ? reject(err) : resolve(sess))),
    );
    assert.ok(loaded, 'the session loads');
    return store.createSession({ sessionID: id } as unknown as Request, loaded);
  }

  function touch(store: DynamoDBStore, id: string, sess: SessionData): Promise<void> {
    return new Promise<void>((resolve, reject) =>
      store.touch(id, sess, (err) => (err ? reject(err) : resolve())),
    );
  }

  test('touch of a session deleted after it was loaded creates no item, with or without a cookie change', async () => {
    for (const [i, store] of stores().entries()) {
      const unchanged = await loadLive(store, `touch-deleted-${i}`);
      await raw.delete(`touch-deleted-${i}`);
      await touch(store, `touch-deleted-${i}`, unchanged);
      assert.equal(await raw.item(`touch-deleted-${i}`), undefined, `store ${i}: unchanged cookie`);

      const remembered = await loadLive(store, `touch-deleted-rem-${i}`);
      await raw.delete(`touch-deleted-rem-${i}`);
      remembered.cookie.maxAge = REMEMBER_MS;
      await touch(store, `touch-deleted-rem-${i}`, remembered);
      assert.equal(await raw.item(`touch-deleted-rem-${i}`), undefined, `store ${i}: cookie changed`);
    }
  });

  test('touch of a session expired after it was loaded (TTL not yet run) leaves it expired', async () => {
    for (const [i, store] of stores().entries()) {
      for (const remember of [false, true]) {
        const id = `touch-expired-${i}-${remember}`;
        const live = await loadLive(store, id);
        const past = nowSec() - 60;
        await raw.setExpiry(id, past);
        if (remember) live.cookie.maxAge = REMEMBER_MS;
        await touch(store, id, live);
        assert.equal(await raw.expiry(id), past, `store ${i}, cookie changed ${remember}`);
        assert.equal(await store.engine.get(id), null);
      }
    }
  });
});
