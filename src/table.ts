/** `createTable`: the session table with its TTL, and the user index, for development, tests and the CLI. */
import {
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  type DynamoDBClient,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import { DEFAULTS } from './defaults.js';
import type { DynamoDBSendClient } from './options.js';

/** Options of `createTable`. @public */
export interface CreateTableOptions {
  /** @defaultValue `'sessions'` */
  tableName?: string;
  /** @defaultValue `'id'` */
  hashKey?: string;
  /** The TTL attribute. @defaultValue `'expires'` */
  expiresAttribute?: string;
  /** Also create the global secondary index for per-user operations. @defaultValue `false` */
  userIndex?: boolean | string;
  /** @defaultValue `'uid'` */
  userIdAttribute?: string;
  /** `on-demand` (PAY_PER_REQUEST) or `provisioned` (with `readCapacity`/`writeCapacity`). @defaultValue `'on-demand'` */
  billing?: 'on-demand' | 'provisioned';
  /** @defaultValue `5` */
  readCapacity?: number;
  /** @defaultValue `5` */
  writeCapacity?: number;
  /** Seconds to wait for the table to become ACTIVE. @defaultValue `120` */
  waitSeconds?: number;
}

/** What `createTable` did. @public */
export interface CreateTableResult {
  /** True when the table was created now, false when it existed. */
  created: boolean;
  /** True when TTL is enabled (or being enabled) on the expiry attribute. */
  ttlEnabled: boolean;
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
  const throughput = {
    ReadCapacityUnits: options.readCapacity ?? d.table.readCapacity,
    WriteCapacityUnits: options.writeCapacity ?? d.table.writeCapacity,
  };
  let created = false;
  try {
    await ddb.send(new DescribeTableCommand({ TableName: tableName }));
  } catch (err) {
    if (!(err instanceof Error && err.name === 'ResourceNotFoundException')) throw err;
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
        ...(index && {
          GlobalSecondaryIndexes: [
            {
              IndexName: index,
              KeySchema: [{ AttributeName: uid, KeyType: 'HASH' }],
              // keys only: a touch (expiry update) then writes nothing to the index
              Projection: { ProjectionType: 'KEYS_ONLY' },
              ...(provisioned && { ProvisionedThroughput: throughput }),
            },
          ],
        }),
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
  return { created, ttlEnabled };
}
