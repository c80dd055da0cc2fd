/**
 * The conditions of the save protocol's writes: each write assumes something about the item, and
 * says so in its condition.
 *
 * - An expiry-only write (touch) requires the item to exist, to be live (no tombstone) and not expired.
 * - A save of a loaded session requires the item still to be the version it loaded, live and not expired.
 * - A new session is written only where no live item is (an expired item or tombstone is dead).
 */
import type { AttributeValue, PutItemCommandInput, UpdateItemCommandInput } from '@aws-sdk/client-dynamodb';
import type { Item } from '../format/item.js';
import type { ResolvedOptions } from '../options.js';

type Shape = Pick<
  ResolvedOptions<unknown>,
  'tableName' | 'hashKey' | 'expiresAttribute' | 'tombstoneAttribute' | 'versionAttribute'
>;

const number = (n: number): AttributeValue => ({ N: String(n) });

/** An expiry-only update of a live, unexpired item. @internal */
export function touchInput(
  o: Shape,
  itemKey: string,
  expiresAtSec: number,
  nowSec: number,
): UpdateItemCommandInput {
  return {
    TableName: o.tableName,
    Key: { [o.hashKey]: { S: itemKey } },
    UpdateExpression: 'SET #e = :e',
    ConditionExpression: 'attribute_exists(#k) AND attribute_not_exists(#t) AND #e > :now',
    ExpressionAttributeNames: { '#k': o.hashKey, '#e': o.expiresAttribute, '#t': o.tombstoneAttribute },
    ExpressionAttributeValues: { ':e': number(expiresAtSec), ':now': number(nowSec) },
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
