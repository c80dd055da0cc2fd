/**
 * `createTable` and `addUserIndex`: the session table with its TTL, and the user index, for
 * development, tests and the CLI.
 */
import {
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  type DynamoDBClient,
  type TableDescription,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import { DEFAULTS } from './defaults.js';
import { isMissingTable, MissingIndexError } from './errors.js';
import type { DynamoDBSendClient } from './options.js';

/** Options of `createTable`. @public */
export interface CreateTableOptions {
  /** @defaultValue `'sessions'` */
  tableName?: string;
  /** @defaultValue `'id'` */
  hashKey?: string;
  /** The TTL attribute. @defaultValue `'expires'` */
  expiresAttribute?: string;
  /**
   * Also create the global secondary index for per-user operations (`true` names it `uid-index`),
   * and add it to an existing table that lacks it (see `addUserIndex`). @defaultValue `false`
   */
  userIndex?: boolean | string;
  /** @defaultValue `'uid'` */
  userIdAttribute?: string;
  /** `on-demand` (PAY_PER_REQUEST) or `provisioned` (with `readCapacity`/`writeCapacity`). @defaultValue `'on-demand'` */
  billing?: 'on-demand' | 'provisioned';
  /** @defaultValue `5` */
  readCapacity?: number;
  /** @defaultValue `5` */
  writeCapacity?: number;
  /** Seconds to wait for the table, then for an index added to it, to become ACTIVE. @defaultValue `120` */
  waitSeconds?: number;
}

/** What `createTable` did. @public */
export interface CreateTableResult {
  /** True when the table was created now, false when it existed. */
  created: boolean;
  /** True when TTL is enabled (or being enabled) on the expiry attribute. */
  ttlEnabled: boolean;
  /** True when the user index was created now, with the table or added to it. */
  indexCreated: boolean;
  /** The user index's status (`ACTIVE` unless `waitSeconds` ran out first); `null` without `userIndex`. */
  indexStatus: string | null;
}

/** Options of `addUserIndex`. @public */
export interface AddUserIndexOptions {
  /** @defaultValue `'sessions'` */
  tableName?: string;
  /** The index name. @defaultValue `'uid-index'` */
  userIndex?: string;
  /** Its partition key, a string attribute. @defaultValue `'uid'` */
  userIdAttribute?: string;
  /** Read capacity of the index on a provisioned table. @defaultValue `5` */
  readCapacity?: number;
  /** Write capacity of the index on a provisioned table. @defaultValue `5` */
  writeCapacity?: number;
  /** Seconds to wait for the index to become ACTIVE (DynamoDB fills it from the existing items). @defaultValue `120` */
  waitSeconds?: number;
}

/** What `addUserIndex` did. @public */
export interface AddUserIndexResult {
  /** True when the index was added now, false when the table had it. */
  created: boolean;
  /** The index's status when it returned: `ACTIVE`, or `CREATING` when `waitSeconds` ran out first. */
  status: string;
}

/** Provisioned read and write capacity: the options', else the defaults. */
function throughputOf(options: { readCapacity?: number; writeCapacity?: number }) {
  return {
    ReadCapacityUnits: options.readCapacity ?? DEFAULTS.table.readCapacity,
    WriteCapacityUnits: options.writeCapacity ?? DEFAULTS.table.writeCapacity,
  };
}

/** The user index: keys only on the user id, with its throughput on a provisioned table. */
function userIndexOf(index: string, uid: string, throughput: ReturnType<typeof throughputOf> | false) {
  return {
    IndexName: index,
    KeySchema: [{ AttributeName: uid, KeyType: 'HASH' as const }],
    // keys only: a touch (expiry update) then writes nothing to the index
    Projection: { ProjectionType: 'KEYS_ONLY' as const },
    ...(throughput && { ProvisionedThroughput: throughput }),
  };
}

/**
 * Creates the session table if it is missing, waits until it is ACTIVE and enables TTL on the
 * expiry attribute. Idempotent. For development, tests and the CLI; never called by the store.
 * @example
 * ```ts
 * await createTable(new DynamoDBClient({}), { tableName: 'sessions' });
 * ```
 * @public
 */
export async function createTable(
  client: DynamoDBSendClient,
  options: CreateTableOptions = {},
): Promise<CreateTableResult> {
  const ddb = client as DynamoDBClient;
  const d = DEFAULTS;
  const tableName = options.tableName ?? d.tableName;
  const hashKey = options.hashKey ?? d.hashKey;
  const expires = options.expiresAttribute ?? d.expiresAttribute;
  const uid = options.userIdAttribute ?? d.userIdAttribute;
  const index = options.userIndex === true ? d.userIndex : options.userIndex || undefined;
  const provisioned = (options.billing ?? d.table.billing) === 'provisioned';
  const throughput = throughputOf(options);
  let created = false;
  try {
    await ddb.send(new DescribeTableCommand({ TableName: tableName }));
  } catch (err) {
    if (!isMissingTable(err)) throw err;
    await ddb.send(
      new CreateTableCommand({
        TableName: tableName,
        AttributeDefinitions: [
          { AttributeName: hashKey, AttributeType: 'S' },
          ...(index ? [{ AttributeName: uid, AttributeType: 'S' as const }] : []),
        ],
        KeySchema: [{ AttributeName: hashKey, KeyType: 'HASH' }],
        BillingMode: provisioned ? 'PROVISIONED' : 'PAY_PER_REQUEST',
        ...(provisioned && { ProvisionedThroughput: throughput }),
        ...(index && { GlobalSecondaryIndexes: [userIndexOf(index, uid, provisioned && throughput)] }),
      }),
    );
    created = true;
  }
  await waitUntilTableExists(
    { client: ddb, maxWaitTime: options.waitSeconds ?? d.table.waitSeconds },
    { TableName: tableName },
  );
  const ttl = await ddb.send(new DescribeTimeToLiveCommand({ TableName: tableName }));
  const status = ttl.TimeToLiveDescription?.TimeToLiveStatus;
  let ttlEnabled = status === 'ENABLED' || status === 'ENABLING';
  if (!ttlEnabled) {
    await ddb.send(
      new UpdateTimeToLiveCommand({
        TableName: tableName,
        TimeToLiveSpecification: { AttributeName: expires, Enabled: true },
      }),
    );
    ttlEnabled = true;
  }
  if (!index) return { created, ttlEnabled, indexCreated: false, indexStatus: null };
  // a table that existed may lack the index, or still be building it
  const added = await addUserIndex(ddb, {
    tableName,
    userIndex: index,
    userIdAttribute: uid,
    readCapacity: throughput.ReadCapacityUnits,
    writeCapacity: throughput.WriteCapacityUnits,
    ...(options.waitSeconds !== undefined && { waitSeconds: options.waitSeconds }),
  });
  return { created, ttlEnabled, indexCreated: created || added.created, indexStatus: added.status };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function describe(ddb: DynamoDBClient, tableName: string): Promise<TableDescription> {
  const { Table } = await ddb.send(new DescribeTableCommand({ TableName: tableName }));
  if (!Table) throw new Error(`DescribeTable returned no table "${tableName}"`);
  return Table;
}

/** Describes the table until `done` or the deadline (epoch ms); returns the last description. */
async function describeUntil(
  ddb: DynamoDBClient,
  tableName: string,
  deadline: number,
  done: (table: TableDescription) => boolean,
): Promise<TableDescription> {
  for (let pause = 250; ; pause = Math.min(pause * 2, 5_000)) {
    const table = await describe(ddb, tableName);
    if (done(table) || Date.now() + pause > deadline) return table;
    await sleep(pause);
  }
}

const indexOf = (table: TableDescription, name: string) =>
  table.GlobalSecondaryIndexes?.find((g) => g.IndexName === name);

/** Asks DynamoDB to add the index; false when another caller added it first. */
async function requestIndex(
  ddb: DynamoDBClient,
  table: TableDescription,
  index: string,
  uid: string,
  options: AddUserIndexOptions,
): Promise<boolean> {
  const tableName = table.TableName ?? '';
  const type = table.AttributeDefinitions?.find((a) => a.AttributeName === uid)?.AttributeType;
  if (type !== undefined && type !== 'S') {
    throw new MissingIndexError(index, `cannot be added: "${uid}" is defined as type ${type}, not S`);
  }
  // a table without a billing summary is provisioned (the summary came with on-demand)
  const provisioned = table.BillingModeSummary?.BillingMode !== 'PAY_PER_REQUEST';
  const create = userIndexOf(index, uid, provisioned && throughputOf(options));
  try {
    await ddb.send(
      new UpdateTableCommand({
        TableName: tableName,
        AttributeDefinitions: [{ AttributeName: uid, AttributeType: 'S' }],
        GlobalSecondaryIndexUpdates: [{ Create: create }],
      }),
    );
    return true;
  } catch (err) {
    if (indexOf(await describe(ddb, tableName), index)) return false;
    throw err;
  }
}

/**
 * Adds the user index (the global secondary index of per-user operations, keys only, on the user
 * id as a string) to an existing table, and waits until it is ACTIVE: DynamoDB fills it from the
 * items already there. Idempotent: a table that has the index is left as it is. On a provisioned
 * table the index gets `readCapacity` and `writeCapacity`. For development, tests and the CLI
 * (`create-table --user-index`); never called by the store.
 * @throws MissingIndexError when an index of that name has another partition key, or the user id
 * attribute is defined with another type
 * @example
 * ```ts
 * await addUserIndex(new DynamoDBClient({}), { tableName: 'sessions' });
 * ```
 * @public
 */
export async function addUserIndex(
  client: DynamoDBSendClient,
  options: AddUserIndexOptions = {},
): Promise<AddUserIndexResult> {
  const ddb = client as DynamoDBClient;
  const tableName = options.tableName ?? DEFAULTS.tableName;
  const index = options.userIndex ?? DEFAULTS.userIndex;
  const uid = options.userIdAttribute ?? DEFAULTS.userIdAttribute;
  const deadline = Date.now() + (options.waitSeconds ?? DEFAULTS.table.waitSeconds) * 1000;
  // DynamoDB refuses an UpdateTable while the table is not ACTIVE
  let table = await describeUntil(ddb, tableName, deadline, (t) => t.TableStatus === 'ACTIVE');
  const created = !indexOf(table, index) && (await requestIndex(ddb, table, index, uid, options));
  table = await describeUntil(ddb, tableName, deadline, (t) => {
    const gsi = indexOf(t, index);
    return gsi?.IndexStatus === 'ACTIVE' || gsi?.KeySchema?.[0]?.AttributeName !== uid;
  });
  const gsi = indexOf(table, index);
  const hash = gsi?.KeySchema?.find((k) => k.KeyType === 'HASH')?.AttributeName;
  if (hash !== uid) {
    throw new MissingIndexError(index, `exists on "${hash}", not on "${uid}": give another index name`);
  }
  return { created, status: gsi?.IndexStatus ?? 'CREATING' };
}
