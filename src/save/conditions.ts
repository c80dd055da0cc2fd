/**
 * The conditions of the save protocol's writes: each write assumes something about the item, and
 * says so in its condition.
 *
 * - An expiry-only write (touch) requires the item to exist, to be live (no tombstone) and not expired,
 *   and, for a request that loaded it, still to be the version loaded.
 * - A save of a loaded session requires the item still to be the version it loaded, live and not expired.
 * - A new session is written only where no live item is (an expired item or tombstone is dead).
 */
import type {
  AttributeValue,
  DeleteItemCommandInput,
  PutItemCommandInput,
  UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import type { Item } from '../format/item.js';
import type { ResolvedOptions } from '../options.js';

type Shape = Pick<
  ResolvedOptions<unknown>,
  'tableName' | 'hashKey' | 'expiresAttribute' | 'tombstoneAttribute' | 'versionAttribute'
>;

const number = (n: number): AttributeValue => ({ N: String(n) });

/**
 * An expiry-only update of a live, unexpired item; with `loadedVersion`, only while the item is still
 * the version a request loaded (0: an item written without a version), so that a newer write's expiry
 * (a longer "remember me", a shorter one) is never replaced by a stale request's. @internal
 */
export function touchInput(
  o: Shape,
  itemKey: string,
  expiresAtSec: number,
  nowSec: number,
  loadedVersion?: number,
): UpdateItemCommandInput {
  const live = 'attribute_exists(#k) AND attribute_not_exists(#t) AND #e > :now';
  const values = { ':e': number(expiresAtSec), ':now': number(nowSec) };
  const names = { '#k': o.hashKey, '#e': o.expiresAttribute, '#t': o.tombstoneAttribute };
  const version =
    loadedVersion === undefined ? undefined : loadedVersion === 0 ? 'attribute_not_exists(#v)' : '#v = :v';
  return {
    TableName: o.tableName,
    Key: { [o.hashKey]: { S: itemKey } },
    UpdateExpression: 'SET #e = :e',
    ConditionExpression: version ? `${live} AND ${version}` : live,
    ExpressionAttributeNames: version ? { ...names, '#v': o.versionAttribute } : names,
    ExpressionAttributeValues: loadedVersion ? { ...values, ':v': number(loadedVersion) } : values,
    // tells a missing item from a destroyed, expired or newer one
    ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
  };
}

/**
 * A delete of one item: with `version`, only while it is still that version (0: an item written
 * without one). @internal
 */
export function deleteInput(o: Shape, itemKey: string, version?: number): DeleteItemCommandInput {
  const base = { TableName: o.tableName, Key: { [o.hashKey]: { S: itemKey } } };
  if (version === undefined) return base;
  if (version === 0) {
    return {
      ...base,
      ConditionExpression: 'attribute_exists(#k) AND attribute_not_exists(#v)',
      ExpressionAttributeNames: { '#k': o.hashKey, '#v': o.versionAttribute },
    };
  }
  return {
    ...base,
    ConditionExpression: '#v = :v',
    ExpressionAttributeNames: { '#v': o.versionAttribute },
    ExpressionAttributeValues: { ':v': number(version) },
  };
}

/**
 * A put of a whole session: over the version `loadedVersion` of a live, unexpired item, or, for a new
 * session (`null`), only where no live item is. When the condition fails, DynamoDB returns the item
 * it found, so a conflict costs no extra read. @internal
 */
export function putInput(
  o: Shape,
  item: Item,
  loadedVersion: number | null,
  nowSec: number,
): PutItemCommandInput {
  const now = { ':now': number(nowSec) };
  const base = {
    TableName: o.tableName,
    Item: item,
    ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const,
  };
  if (loadedVersion === null) {
    return {
      ...base,
      ConditionExpression: 'attribute_not_exists(#k) OR #e <= :now',
      ExpressionAttributeNames: { '#k': o.hashKey, '#e': o.expiresAttribute },
      ExpressionAttributeValues: now,
    };
  }
  const names = { '#e': o.expiresAttribute, '#t': o.tombstoneAttribute, '#v': o.versionAttribute };
  const live = 'attribute_not_exists(#t) AND #e > :now';
  if (loadedVersion === 0) {
    // an item written without a version (an earlier version of this store, or another tool)
    return {
      ...base,
      ConditionExpression: `attribute_exists(#k) AND attribute_not_exists(#v) AND ${live}`,
      ExpressionAttributeNames: { ...names, '#k': o.hashKey },
      ExpressionAttributeValues: now,
    };
  }
  return {
    ...base,
    ConditionExpression: `#v = :v AND ${live}`,
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: { ...now, ':v': number(loadedVersion) },
  };
}
