/**
 * With `encryption`, the per-user index holds a keyed hash of the user id, never the id: listing and
 * revoking still find every session of the user, across a key rotation and for sessions stored before
 * encryption was switched on. Without it, the id is stored as given (docs/cost-features.md says so).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { before, describe, test } from 'node:test';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { type EngineOptions, SessionEngine } from '../../src/index.ts';
import { freshTable, keyOf, localClient } from './helpers.ts';

const client = await localClient();
let table = '';
const uidOf = (s: Record<string, unknown>) => (typeof s.uid === 'string' ? s.uid : undefined);
const key1 = randomBytes(32);
const key2 = randomBytes(32);

before(async () => {
  table = await freshTable(client, { userIndex: true });
});

function engine(options: EngineOptions = {}) {
  return new SessionEngine({ client, tableName: table, userId: uidOf, ...options });
}

/** The user id attribute of a session's item, as DynamoDB holds it. */
async function storedUid(id: string): Promise<string | undefined> {
  const out = await client.send(
    new GetItemCommand({ TableName: table, Key: { id: { S: keyOf(id) } }, ConsistentRead: true }),
  );
  return out.Item?.uid?.S;
}

describe('user ids in the index', () => {
  test('with encryption, the table holds a keyed hash of the user id, the same for each of its sessions', async () => {
    const e = engine({ encryption: { key: key1 } });
    await e.set('hash-1', { uid: 'ada@example.com' });
    await e.set('hash-2', { uid: 'ada@example.com' });
    await e.set('hash-3', { uid: 'bob@example.com' });
    const [a, b, c] = await Promise.all(['hash-1', 'hash-2', 'hash-3'].map(storedUid));
    assert.match(String(a), /^[A-Za-z0-9_-]{43}$/);
    assert.ok(!String(a).includes('ada'));
    assert.equal(a, b);
    assert.notEqual(a, c);
    // another key gives another hash: the table alone does not tell who the user is
    await engine({ encryption: { key: key2 } }).set('hash-4', { uid: 'ada@example.com' });
    assert.notEqual(await storedUid('hash-4'), a);
  });

  test('listing and revoking find the sessions by the hash', async () => {
    const e = engine({ encryption: { key: key1 } });
    await e.set('list-1', { uid: 'carol' });
    await e.set('list-2', { uid: 'carol' });
    await e.set('list-3', { uid: 'dave' });
    assert.equal((await e.listUserSessions('carol')).length, 2);
    assert.deepEqual(await e.destroyUserSessions('carol', { except: 'list-2' }), { destroyed: 1 });
    assert.equal(await e.get('list-1'), null);
    assert.deepEqual(await e.get('list-2'), { uid: 'carol' });
    assert.deepEqual(await e.get('list-3'), { uid: 'dave' });
  });

  test('after a key rotation, sessions under the old key and the new one are all listed and revoked', async () => {
    await engine({ encryption: { key: key1, keyId: 'old' } }).set('rotate-1', { uid: 'erin' });
    const rotated = engine({
      encryption: [
        { key: key2, keyId: 'new' },
        { key: key1, keyId: 'old' },
      ],
    });
    await rotated.set('rotate-2', { uid: 'erin' });
    assert.notEqual(await storedUid('rotate-1'), await storedUid('rotate-2'));
    assert.equal((await rotated.listUserSessions('erin')).length, 2);
    assert.deepEqual(await rotated.destroyUserSessions('erin'), { destroyed: 2 });
    assert.equal((await rotated.listUserSessions('erin')).length, 0);
  });

  test('a session stored before encryption was switched on is still listed and revoked', async () => {
    await engine().set('before-1', { uid: 'frank' });
    assert.equal(await storedUid('before-1'), 'frank');
    const sealed = engine({ encryption: { key: key1 } });
    await sealed.set('before-2', { uid: 'frank' });
    assert.equal((await sealed.listUserSessions('frank')).length, 2);
    assert.deepEqual(await sealed.destroyUserSessions('frank'), { destroyed: 2 });
  });

  test('without encryption the user id is stored as given', async () => {
    await engine().set('plain-1', { uid: 'grace' });
    assert.equal(await storedUid('plain-1'), 'grace');
  });
});
