/**
 * Item keys and tombstones: where a session id is stored, and what replaces a destroyed session.
 *
 * A session id is a credential: signed with the app's secret, it is a working login. So the table
 * holds a one-way hash of it (SHA-256, base64url: no secret is needed, ids are random), and nothing
 * in the table works as a cookie. Sessions written under the plain id (earlier versions of this
 * store, connect-dynamodb, `@pwrdrvr/dynamodb-session-store`) are still found there, and move to the hashed key when next
 * written.
 */
import { hash } from 'node:crypto';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';

/** DynamoDB's limit on a partition key, in bytes. @internal */
export const maxKeyBytes = 2048;

/** The table key of a session id under `prefix`, or `null` when the id cannot be a key. @internal */
export function itemKeyOf(prefix: string, id: string): string | null {
  if (typeof id !== 'string' || id === '') return null;
  const key = prefix + id;
  // UTF-8 takes at most 3 bytes per UTF-16 unit: most keys need no byte count
  return key.length * 3 <= maxKeyBytes || Buffer.byteLength(key) <= maxKeyBytes ? key : null;
}

/** The one-way hash of a session id that keys its item: SHA-256, base64url (43 characters). @internal */
export function hashOfId(id: string): string {
  return hash('sha256', id, 'base64url');
}

/**
 * Where a session id is stored: `key`, where this store writes, and `plain`, where it or another
 * writer stored it with ids not hashed. @internal
 */
export interface SessionKeys {
  /** The key this store reads first and writes. */
  key: string;
  /**
   * The plain-id key, read when `key` holds nothing; `undefined` when ids are not hashed, or for an
   * id spelled like a hash.
   */
  plain: string | undefined;
}

/**
 * The keys of a session id under `prefix`, or `null` when the id cannot be a key (empty, or over
 * DynamoDB's 2048 bytes with the prefix, as a plain key). @internal
 */
export function sessionKeysOf(prefix: string, id: string, hashIds: boolean): SessionKeys | null {
  const plain = itemKeyOf(prefix, id);
  if (plain === null) return null;
  if (!hashIds) return { key: plain, plain: undefined };
  // an id spelled like a hash would name, as a plain key, the item of the session it is the hash of:
  // such an id is never looked for under its plain key, whatever the item holds or the options say
  return { key: prefix + hashOfId(id), plain: hashShaped.test(id) ? undefined : plain };
}

/** What `hashOfId` makes: 43 base64url characters. */
const hashShaped = /^[A-Za-z0-9_-]{43}$/;

/** What the tombstone of a destroyed session needs to know. @internal */
export interface TombstoneShape {
  hashKey: string;
  tombstoneAttribute: string;
  expiresAttribute: string;
  tombstoneSeconds: number;
}

/** The small item that replaces a destroyed session until `tombstoneSeconds` after `nowSec`. @internal */
export function tombstoneItem(
  shape: TombstoneShape,
  itemKey: string,
  nowSec: number,
): Record<string, AttributeValue> {
  return {
    [shape.hashKey]: { S: itemKey },
    [shape.tombstoneAttribute]: { N: String(nowSec) },
    [shape.expiresAttribute]: { N: String(nowSec + shape.tombstoneSeconds) },
  };
}

/** Names a session in debug output by a fingerprint of its table key: the id is a credential, never logged. @internal */
export function keyTag(itemKey: string): string {
  return hash('sha256', itemKey, 'base64url').slice(0, 12);
}
