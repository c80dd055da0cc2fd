import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import Fastify from 'fastify';
import Koa from 'koa';
import { DynamoDBStore as ExpressStore } from '../../adapters/express.ts';
import { dynamodbSessions } from '../../adapters/fastify.ts';
import { dynamodbSession, DynamoDBStore as KoaStore } from '../../adapters/koa.ts';
import { SessionEngine } from '../../src/index.ts';
import { clientOf, freshTable, localClient, localConfig } from './helpers.ts';

const client = await localClient();
let tableName = '';
before(async () => {
  tableName = await freshTable(client);
});

/** Counts the calls of `destroy()` on a client. */
function watchDestroy(c: DynamoDBClient): { count: number } {
  const seen = { count: 0 };
  const destroy = c.destroy.bind(c);
  c.destroy = () => {
    seen.count++;
    destroy();
  };
  return seen;
}

describe('close()', () => {
  test('an engine closes the client it made', async () => {
    const engine = new SessionEngine({ tableName, clientConfig: await localConfig() });
    await engine.set('close-own', { a: 1 });
    const destroyed = watchDestroy(clientOf(engine));
    engine.close();
    assert.equal(destroyed.count, 1);
  });

  test('an engine never closes a client passed in: it keeps working for its owner', async () => {
    const mine = await localClient();
    const destroyed = watchDestroy(mine);
    const engine = new SessionEngine({ tableName, client: mine });
    await engine.set('close-passed', { a: 1 });
    engine.close();
    assert.equal(destroyed.count, 0);
    assert.deepEqual(await new SessionEngine({ tableName, client: mine }).get('close-passed'), { a: 1 });
    mine.destroy();
  });

  test('the Express and Koa stores close their own client, not one passed in', async () => {
    for (const Store of [ExpressStore, KoaStore]) {
      const own = new Store({ tableName, clientConfig: await localConfig() });
      const ownDestroyed = watchDestroy(clientOf(own.engine as SessionEngine<object>));
      own.close();
      assert.equal(ownDestroyed.count, 1, `${Store.name} closes its own client`);
      const mine = await localClient();
      const mineDestroyed = watchDestroy(mine);
      new Store({ tableName, client: mine }).close();
      assert.equal(mineDestroyed.count, 0, `${Store.name} leaves a client passed in`);
      mine.destroy();
    }
  });

  test('the Koa middleware carries its store, to close it at shutdown', async () => {
    const app = new Koa();
    app.keys = ['a key for the test'];
    const middleware = dynamodbSession(app, { tableName, clientConfig: await localConfig() });
    const destroyed = watchDestroy(clientOf(middleware.store.engine));
    middleware.store.close();
    assert.equal(destroyed.count, 1);
  });

  test('the Fastify plugin closes the client it made on app.close(), never one passed in', async () => {
    const secret = 'a secret of at least thirty-two characters';
    const own = Fastify();
    await own.register(dynamodbSessions, { secret, tableName, clientConfig: await localConfig() });
    await own.ready();
    const ownDestroyed = watchDestroy(clientOf(own.dynamodbStore.engine));
    await own.close();
    assert.equal(ownDestroyed.count, 1);

    const mine = await localClient();
    const mineDestroyed = watchDestroy(mine);
    const passed = Fastify();
    await passed.register(dynamodbSessions, { secret, tableName, client: mine });
    await passed.ready();
    await passed.close();
    assert.equal(mineDestroyed.count, 0);
    mine.destroy();
  });
});
