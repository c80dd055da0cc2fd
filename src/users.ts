/**
 * Per-user operations: list a user's sessions, destroy all of them ("log out everywhere").
 * They read the global secondary index on the user id attribute (see `createTable`'s `userIndex`).
 * With `encryption` the attribute holds a keyed hash of the user id (`KeyRing.userIdHash`): each
 * configured key's hash is looked up, and the plain id, which sessions stored before hold.
 */
import { debuglog } from 'node:util';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { eachChunk, untilProcessed } from './batch.js';
import { nowSec } from './clock.js';
import { DEFAULTS } from './defaults.js';
import { InvalidArgumentError, MissingIndexError, StoreUnavailableError } from './errors.js';
import { hashOfId, keyTag } from './format/keys.js';
import type { ResolvedOptions } from './options.js';
import { removeSessionItem } from './save/conditions.js';
import { isConditionFailure } from './transport/counted.js';
import type { TableTransport } from './transport/types.js';

const debug = debuglog('dynamodb-sessions');

/** One of a user's live sessions. @public */
export interface UserSession {
  /**
   * Names the session without giving it away: its table key without the prefix, which is a one-way
   * hash of the session id (or the id itself, for a session stored before ids were hashed, or with
   * `hashIds: false`). It does not work as a cookie; give it to `destroyUserSessions` as `only` to
   * revoke that one session.
   */
  handle: string;
  /** The item's expiry, epoch seconds. */
  expiresAtSec: number;
  /** True for the session whose id was given as `current` (the device asking). */
  current: boolean;
}

/** Options of `listUserSessions`. @public */
export interface ListUserSessionsOptions {
  /** Index entries per `Query` page (DynamoDB also ends a page at 1 MB). @defaultValue no limit but DynamoDB's */
  pageSize?: number;
  /** The session id of the request asking (`req.sessionID`): its entry is marked `current`. */
  current?: string;
}

/** Options of `destroyUserSessions`. @public */
export interface DestroyUserSessionsOptions {
  /** Index entries per `Query` page. @defaultValue no limit but DynamoDB's */
  pageSize?: number;
  /** Session ids to keep, typically the current one ("log out other devices"). */
  except?: string | readonly string[];
  /** Only these sessions, by the `handle` that `listUserSessions` gave (revoke one device). */
  only?: string | readonly string[];
}

/** What `destroyUserSessions` did. @public */
export interface DestroyUserSessionsResult {
  /**
   * Sessions this call destroyed (an expired session that TTL has not deleted yet counts too; one that
   * was no longer this user's when its write came does not).
   */
  destroyed: number;
}

const batchGetMax = 100; // DynamoDB's BatchGetItem limit
const parallelWrites = 8; // revocations in flight at once: quick for a user's few sessions, bounded for many

type Key = Record<string, AttributeValue>;

/**
 * What the per-user operations need of the table: its options and its calls (counted, failures as
 * `StoreUnavailableError`). @internal
 */
export interface UserTable {
  readonly options: Omit<ResolvedOptions<never>, 'userId'> & { userId: unknown };
  readonly transport: TableTransport;
}

/** One value or a list of them, as a list. */
function listOf(values: string | readonly string[] | undefined): readonly string[] {
  return typeof values === 'string' ? [values] : (values ?? []);
}

/**
 * What the index may hold for a user id: without encryption the id; with it, its hash under each
 * configured key (the sealing key's first: sessions sealed before a rotation hold an older one), then
 * the id itself (sessions stored before encryption, or by an earlier version).
 */
function indexValuesOf(table: UserTable, userId: string): string[] {
  const ring = table.options.encryption;
  return ring ? [...ring.userIdHashes(userId), userId] : [userId];
}

/**
 * The key of an item that is a live session of the user whose index values are `owners`, as the
 * table says now: the index may lag behind a session that was destroyed or changed owner.
 */
function ownedKey(table: UserTable, item: Key, owners: ReadonlySet<string>): string | undefined {
  const o = table.options;
  const key = item[o.hashKey]?.S;
  const owner = item[o.userIdAttribute]?.S;
  if (item[o.tombstoneAttribute] !== undefined || owner === undefined || !owners.has(owner)) return undefined;
  return key;
}

/** The handles a session id may have: its hash, and the plain id of a session stored before ids were hashed. */
function handlesOf(table: UserTable, ids: string | readonly string[] | undefined): Set<string> {
  const handles = new Set<string>();
  for (const id of listOf(ids)) {
    if (typeof id !== 'string') continue;
    handles.add(id);
    if (table.options.hashIds) handles.add(hashOfId(id));
  }
  return handles;
}

function checkUserId(userId: string): void {
  if (typeof userId !== 'string' || userId === '' || Buffer.byteLength(userId) > 2048) {
    throw new InvalidArgumentError('userId', 'expected a non-empty string of at most 2048 bytes');
  }
}

/** Table keys of a user's sessions under this engine's prefix, read page by page from the index, for each of its index values. */
async function queryKeys(table: UserTable, userId: string, pageSize: number | undefined): Promise<string[]> {
  checkUserId(userId);
  if (pageSize !== undefined && !(Number.isInteger(pageSize) && pageSize >= 1)) {
    throw new InvalidArgumentError('pageSize', `expected a whole number >= 1, got ${String(pageSize)}`);
  }
  const o = table.options;
  if (!o.userId) {
    throw new MissingIndexError(
      o.userIndex,
      `cannot be used: the userId option is not set, so sessions carry no "${o.userIdAttribute}"`,
      undefined,
      howToCreate(table),
    );
  }
  const keys = new Set<string>();
  for (const value of indexValuesOf(table, userId)) {
    let start: Key | undefined;
    do {
      const page = await queryPage(table, value, pageSize, start);
      for (const item of page.Items ?? []) {
        const key = item[o.hashKey]?.S;
        // another app may share the table (and the index) under another prefix
        if (key?.startsWith(o.prefix)) keys.add(key);
      }
      start = page.LastEvaluatedKey;
    } while (start);
  }
  return [...keys];
}

async function queryPage(
  table: UserTable,
  indexValue: string,
  pageSize: number | undefined,
  start: Key | undefined,
) {
  const o = table.options;
  try {
    return await table.transport.query({
      TableName: o.tableName,
      IndexName: o.userIndex,
      KeyConditionExpression: '#u = :u',
      ProjectionExpression: '#k',
      ExpressionAttributeNames: { '#u': o.userIdAttribute, '#k': o.hashKey },
      ExpressionAttributeValues: { ':u': { S: indexValue } },
      ...(pageSize !== undefined && { Limit: pageSize }),
      ...(start && { ExclusiveStartKey: start }),
      ...(o.capacity && { ReturnConsumedCapacity: 'TOTAL' as const }),
    });
  } catch (err) {
    const cause = err instanceof StoreUnavailableError ? err.cause : undefined;
    // "The table does not have the specified index", or an index keyed on another attribute
    if (
      cause instanceof Error &&
      cause.name === 'ValidationException' &&
      /specified index|key schema/i.test(cause.message)
    ) {
      throw new MissingIndexError(
        o.userIndex,
        'is missing from the table',
        cause,
        `The table "${o.tableName}" has no such index (${cause.message}). ${howToCreate(table)}`,
      );
    }
    throw err;
  }
}

function howToCreate(table: UserTable): string {
  const o = table.options;
  const flags = [
    ...(o.userIndex === DEFAULTS.userIndex ? [] : [`--index-name ${o.userIndex}`]),
    ...(o.userIdAttribute === DEFAULTS.userIdAttribute ? [] : [`--user-attribute ${o.userIdAttribute}`]),
  ];
  const options = [
    `tableName: '${o.tableName}'`,
    ...(o.userIndex === DEFAULTS.userIndex ? [] : [`userIndex: '${o.userIndex}'`]),
    ...(o.userIdAttribute === DEFAULTS.userIdAttribute ? [] : [`userIdAttribute: '${o.userIdAttribute}'`]),
  ];
  return (
    `Add it with: npx dynamodb-sessions create-table --table ${o.tableName} --user-index${flags.map((f) => ` ${f}`).join('')} ` +
    `(or addUserIndex(client, { ${options.join(', ')} }) in code): both add a keys-only global secondary index ` +
    `"${o.userIndex}" on "${o.userIdAttribute}" (string) to the existing table and wait until it is ACTIVE.`
  );
}

/** Reads expiry, tombstone and owner of each key (the index holds keys only), consistently. */
async function readItems(table: UserTable, keys: string[]): Promise<Key[]> {
  const o = table.options;
  const items: Key[] = [];
  await eachChunk(keys, batchGetMax, (chunk) =>
    untilProcessed<Key>(
      'BatchGetItem',
      chunk.map((key) => ({ [o.hashKey]: { S: key } })),
      async (rest) => {
        const out = await table.transport.batchGetItem({
          RequestItems: {
            [o.tableName]: {
              Keys: rest,
              // a page shown right after "log out other devices" must not list the revoked ones
              ConsistentRead: true,
              ProjectionExpression: '#k, #e, #t, #u',
              ExpressionAttributeNames: {
                '#k': o.hashKey,
                '#e': o.expiresAttribute,
                '#t': o.tombstoneAttribute,
                '#u': o.userIdAttribute,
              },
            },
          },
          ...(o.capacity && { ReturnConsumedCapacity: 'TOTAL' as const }),
        });
        items.push(...(out.Responses?.[o.tableName] ?? []));
        return out.UnprocessedKeys?.[o.tableName]?.Keys ?? [];
      },
    ),
  );
  return items;
}

/**
 * Lists a user's live sessions: a `Query` on the user index (all pages), then a consistent
 * `BatchGetItem` of the expiry, since the index holds keys only. Expired and destroyed sessions are
 * left out. The index is eventually consistent: a session saved a moment ago may be missing.
 * @throws MissingIndexError, StoreUnavailableError
 * @internal
 */
export async function listUserSessions(
  table: UserTable,
  userId: string,
  options: ListUserSessionsOptions = {},
): Promise<UserSession[]> {
  const o = table.options;
  const keys = await queryKeys(table, userId, options.pageSize);
  const owners = new Set(indexValuesOf(table, userId));
  const current = handlesOf(table, options.current);
  const now = nowSec();
  const sessions: UserSession[] = [];
  for (const item of await readItems(table, keys)) {
    const key = ownedKey(table, item, owners);
    if (key === undefined) continue;
    const expiresAtSec = Number(item[o.expiresAttribute]?.N);
    if (!Number.isFinite(expiresAtSec)) {
      debug('listUserSessions: %s has no numeric %s, left out', keyTag(key), o.expiresAttribute);
      continue;
    }
    const handle = key.slice(o.prefix.length);
    if (expiresAtSec > now) sessions.push({ handle, expiresAtSec, current: current.has(handle) });
  }
  return sessions.sort((a, b) => b.expiresAtSec - a.expiresAtSec || (a.handle < b.handle ? -1 : 1));
}

/**
 * Runs `fn` on each item, at most `limit` at a time; after a failure no further item is started, and
 * the first failure is thrown once those under way have settled.
 */
async function eachLimited<I>(items: readonly I[], limit: number, fn: (item: I) => Promise<void>) {
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (!failed && next < items.length) {
      const item = items[next++] as I;
      try {
        await fn(item);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  const outcomes = await Promise.allSettled(Array.from({ length: Math.min(limit, items.length) }, worker));
  for (const outcome of outcomes) if (outcome.status === 'rejected') throw outcome.reason;
}

/**
 * Revokes one session, only while it is still a live session of `userId`: a tombstone (or a delete
 * when `tombstoneSeconds` is 0) under a condition on the owner, so that a session given to another
 * user since the index listed it is left alone. True when it was revoked.
 */
async function revoke(table: UserTable, key: string, userId: string): Promise<boolean> {
  const o = table.options;
  // any of the user's index values: a session sealed again since the listing may hold another
  const values = indexValuesOf(table, userId);
  const names = values.map((_, i) => `:u${i}`);
  const condition = {
    ConditionExpression:
      values.length === 1
        ? '#u = :u0 AND attribute_not_exists(#t)'
        : `#u IN (${names.join(', ')}) AND attribute_not_exists(#t)`,
    ExpressionAttributeNames: { '#u': o.userIdAttribute, '#t': o.tombstoneAttribute },
    ExpressionAttributeValues: Object.fromEntries(values.map((v, i) => [names[i], { S: v }])),
    ...(o.capacity && { ReturnConsumedCapacity: 'TOTAL' as const }),
  };
  try {
    await removeSessionItem(table.transport, o, key, condition);
    return true;
  } catch (err) {
    if (isConditionFailure(err)) {
      debug('destroyUserSessions: %s left alone, no longer a live session of this user', keyTag(key));
      return false;
    }
    throw err;
  }
}

/**
 * Destroys every session of a user but those in `except` (or only those in `only`): each listed session
 * becomes a tombstone (or is deleted when `tombstoneSeconds` is 0), so requests in flight cannot write
 * it back. Each write is conditional on the session still being a live one of this user, as the table
 * says at that moment: the index lags, and a session may change owner between the listing and the
 * write. `parallelWrites` writes at a time. Safe to retry after a failure. A session saved a moment
 * ago may not be in the index yet.
 * @returns how many sessions this call destroyed (an expired session that TTL has not deleted yet counts too)
 * @throws MissingIndexError, StoreUnavailableError
 * @internal
 */
export async function destroyUserSessions(
  table: UserTable,
  userId: string,
  options: DestroyUserSessionsOptions = {},
): Promise<DestroyUserSessionsResult> {
  const o = table.options;
  const except = handlesOf(table, options.except);
  const only = options.only === undefined ? undefined : new Set(listOf(options.only));
  const keys = (await queryKeys(table, userId, options.pageSize)).filter((key) => {
    const handle = key.slice(o.prefix.length);
    return !except.has(handle) && (only === undefined || only.has(handle));
  });
  let destroyed = 0;
  await eachLimited(keys, parallelWrites, async (key) => {
    if (await revoke(table, key, userId)) destroyed++;
  });
  return { destroyed };
}
