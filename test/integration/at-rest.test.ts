/**
 * Safe at rest: whoever reads the sessions table (console, backups, exports) finds nothing that works
 * as a session cookie; sessions stored under the plain id by earlier versions still load and move to
 * the hashed key; sealed data bound to its table and version refuses replays and moves.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  type AttributeValue,
  GetItemCommand,
  PutItemCommand,
  ScanCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { Signer } from '@fastify/cookie';
import { sign as signExpressCookie } from 'cookie-signature';
import Keygrip from 'keygrip';
import { hashOfId } from '../../src/format/keys.ts';
import { SessionEngine } from '../../src/index.ts';
import { CookieJar, freshTable, keyOf, localClient, request, unreadable } from './helpers.ts';
import { type Framework, type ProtocolApp, type Seen, secret, startApp } from './protocol-apps.ts';

const client = await localClient();
const apps: ProtocolApp[] = [];
after(async () => {
  for (const app of apps) await app.close();
});
const inAnHour = () => Math.floor(Date.now() / 1000) + 3600;

/** The cookie a browser would send for session id `id` on this framework, signed with the app's secret. */
function cookieFor(framework: Framework, id: string): string {
  if (framework === 'express')
    return `connect.sid=${encodeURIComponent(`s:${signExpressCookie(id, secret)}`)}`;
  if (framework === 'koa')
    return `koa.sess=${id}; koa.sess.sig=${new Keygrip([secret]).sign(`koa.sess=${id}`)}`;
  return `sessionId=${encodeURIComponent(new Signer(secret).sign(id))}`;
}

async function readWith(app: ProtocolApp, cookie: string): Promise<Seen> {
  const res = await fetch(`${app.base}/read`, { headers: { cookie } });
  return (await res.json()) as Seen;
}

/** Every string in an item, at any depth. */
function stringsOf(av: AttributeValue): string[] {
  if (av.S !== undefined) return [av.S];
  if (av.M !== undefined) return Object.values(av.M).flatMap(stringsOf);
  if (av.L !== undefined) return av.L.flatMap(stringsOf);
  return [];
}

describe('a table read by someone else', () => {
  for (const framework of ['express', 'fastify', 'koa'] as const) {
    test(`${framework}: after logins, no key or value in the table works as a session cookie`, async () => {
      const tableName = await freshTable(client);
      const app = await startApp({ framework, client, tableName });
      apps.push(app);
      const ids: string[] = [];
      for (const name of ['ada', 'bob', 'cyd']) {
        const res = await request(app.base, `/login?name=${name}`, new CookieJar(), { method: 'POST' });
        ids.push(String((res.body as Seen).id));
      }
      // the cookie of a real id does work: the check below can fail
      assert.equal((await readWith(app, cookieFor(framework, ids[0] ?? ''))).data.user, 'ada');
      const { Items = [] } = await client.send(
        new ScanCommand({ TableName: tableName, ConsistentRead: true }),
      );
      assert.equal(Items.length, 3);
      const found = Items.flatMap((item) => Object.values(item).flatMap(stringsOf));
      for (const id of ids) {
        assert.ok(!found.some((s) => s.includes(id)), `session id ${id} appears in the table`);
      }
      // what a reader could try as a session id: every key, without and with its prefix
      const candidates = Items.flatMap((item) => {
        const key = item.id?.S ?? '';
        return [key, key.replace(/^session#/, '')];
      });
      for (const candidate of candidates) {
        const seen = await readWith(app, cookieFor(framework, candidate));
        assert.equal(seen.data.user, undefined, `the table key ${candidate} opened a session`);
      }
    });
  }
});

describe('sessions stored under the plain id by an earlier version', () => {
  test('load through express-session, and move to the hashed key at their next write', async () => {
    const tableName = await freshTable(client);
    const app = await startApp({ framework: 'express', client, tableName, engine: { touchAfter: 0 } });
    apps.push(app);
    const id = 'plain-id-0123456789abcdefghijklmnopq';
    // an item as 0.1.0 (or @pwrdrvr) wrote it: under the plain id, no version
    await client.send(
      new PutItemCommand({
        TableName: tableName,
        Item: {
          id: { S: `session#${id}` },
          sess: {
            M: {
              cookie: {
                M: { originalMaxAge: { N: '86400000' }, httpOnly: { BOOL: true }, path: { S: '/' } },
              },
              user: { S: 'old-user' },
            },
          },
          expires: { N: String(inAnHour()) },
        },
      }),
    );
    const cookie = cookieFor('express', id);
    assert.equal((await readWith(app, cookie)).data.user, 'old-user');
    const res = await fetch(`${app.base}/set?key=cart&value=1`, { method: 'POST', headers: { cookie } });
    assert.equal(res.status, 200);
    // express-session sends the start of the answer before its save ends, and the end after it
    await res.text();
    const get = (key: string) =>
      client.send(
        new GetItemCommand({ TableName: tableName, Key: { id: { S: key } }, ConsistentRead: true }),
      );
    assert.equal((await get(`session#${id}`)).Item, undefined, 'the plain-id item is gone');
    const moved = (await get(keyOf(id))).Item;
    assert.equal(moved?.sess?.M?.user?.S, 'old-user');
    assert.equal(moved?.sess?.M?.cart?.S, '1');
    assert.deepEqual((await readWith(app, cookie)).data, { cart: '1', user: 'old-user' });
  });
});

describe('sealed sessions bound to their table and version', () => {
  const key = '9f1c2e7a4b8d03f6e5a1c7b9d2f48e6a0b3c5d7e9f1a2b4c6d8e0f1a3b5c7d9e'; // random, written out
  let tableName = '';
  let otherTable = '';
  before(async () => {
    tableName = await freshTable(client);
    otherTable = await freshTable(client);
  });

  const rawKey = (id: string) => ({ id: { S: keyOf(id) } });
  const raw = async (table: string, id: string) =>
    (await client.send(new GetItemCommand({ TableName: table, Key: rawKey(id), ConsistentRead: true }))).Item;

  test('an older sealed copy written back over a newer version is refused', async () => {
    const engine = new SessionEngine({ client, tableName, encryption: { key } });
    const v1 = await engine.set('replay', { role: 'user' }, inAnHour(), { loaded: null });
    const oldBlob = (await raw(tableName, 'replay'))?.sess;
    await engine.set('replay', { role: 'admin-revoked' }, inAnHour(), { loaded: v1 });
    await client.send(
      new UpdateItemCommand({
        TableName: tableName,
        Key: rawKey('replay'),
        UpdateExpression: 'SET sess = :old',
        ExpressionAttributeValues: { ':old': oldBlob as AttributeValue },
      }),
    );
    await unreadable(engine, 'replay');
  });

  test('a sealed blob written into a tombstone does not make it a session', async () => {
    const engine = new SessionEngine({ client, tableName, encryption: { key } });
    await engine.set('gone', { role: 'user' }, inAnHour(), { loaded: null });
    const oldBlob = (await raw(tableName, 'gone'))?.sess;
    await engine.destroy('gone');
    await client.send(
      new UpdateItemCommand({
        TableName: tableName,
        Key: rawKey('gone'),
        UpdateExpression: 'SET sess = :old, ver = :v',
        ExpressionAttributeValues: { ':old': oldBlob as AttributeValue, ':v': { N: '2' } },
      }),
    );
    assert.equal(await engine.get('gone'), null);
    await client.send(
      new UpdateItemCommand({
        TableName: tableName,
        Key: rawKey('gone'),
        UpdateExpression: 'REMOVE destroyed',
      }),
    );
    await unreadable(engine, 'gone');
  });

  test('a sealed item copied to another table with the same key is refused there', async () => {
    const here = new SessionEngine({ client, tableName, encryption: { key } });
    const there = new SessionEngine({ client, tableName: otherTable, encryption: { key } });
    await here.set('moved', { role: 'user' }, inAnHour(), { loaded: null });
    const item = await raw(tableName, 'moved');
    assert.ok(item?.sess?.B, 'sealed');
    await client.send(new PutItemCommand({ TableName: otherTable, Item: item }));
    await unreadable(there, 'moved');
    assert.deepEqual(await here.get('moved'), { role: 'user' });
  });

  test('hashing the id costs no extra read: a session found under its key is one GetItem', async () => {
    const engine = new SessionEngine({ client, tableName });
    await engine.set('one-read', { a: 1 }, inAnHour(), { loaded: null });
    const before = engine.stats().total.calls;
    await engine.get('one-read');
    assert.equal(engine.stats().total.calls - before, 1);
    assert.equal(hashOfId('one-read').length, 43);
  });
});
