/**
 * Item keys and tombstones: where a session id is stored, and what replaces a destroyed session.
 */
import { createHash } from 'node:crypto';
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
  return createHash('sha256').update(itemKey).digest('base64url').slice(0, 12);
}
