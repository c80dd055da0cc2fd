/**
 * Table checks of the `dynamodb-sessions` CLI: key schema, TTL, user index, the replicas of a
 * global table and the permissions the store needs, each with how to fix it.
 */
import { randomUUID } from 'node:crypto';
import {
  BatchGetItemCommand,
  DeleteItemCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  type TableDescription,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { DEFAULTS } from '../src/index.js';
import {
  accessFix,
  awsCommand,
  type Check,
  createCommand,
  errorText,
  LOCAL_INDEX_HINT,
  ok,
  problem,
  type TableSpec,
} from './check.js';
import { isLoopback } from './connect.js';
import { globalTableChecks, isStronglyConsistent, replicaTtls } from './replicas.js';
import { checkTtl, describeTtl } from './ttl.js';

/** Describes the table; a problem when it is missing, unreadable or not ACTIVE. @internal */
export async function checkTable(
  client: DynamoDBClient,
  spec: TableSpec,
): Promise<{ check: Check; table?: TableDescription }> {
  const name = 'table';
  try {
    const { Table: table } = await client.send(new DescribeTableCommand({ TableName: spec.tableName }));
    if (!table) throw new Error('DescribeTable returned no table');
    if (table.TableStatus !== 'ACTIVE') {
      const check = problem(
        name,
        `table "${spec.tableName}" is ${table.TableStatus}`,
        'wait until it is ACTIVE, then run this again',
      );
      return { check, table };
    }
    return { check: ok(name, `table "${spec.tableName}" exists and is ACTIVE`), table };
  } catch (err) {
    if (err instanceof Error && err.name === 'ResourceNotFoundException') {
      const where = spec.region ? ` in ${spec.region}` : '';
      // DynamoDB Local keeps a database per access key id and region
      const local = spec.endpoint
        ? '\nor, if the app made it: use the access key id and region the app uses (DynamoDB Local ' +
          'keeps a database for each, unless started with -sharedDb)'
        : '';
      const fix = `${createCommand(spec)}${local}`;
      return { check: problem(name, `table "${spec.tableName}" not found${where}`, fix) };
    }
    const fix = accessFix(err, 'DescribeTable', 'the table', spec);
    return { check: problem(name, `cannot describe the table: ${errorText(err)}`, fix) };
  }
}

/** The key schema must be one partition key of type S with the expected name. @internal */
export function checkKeySchema(table: TableDescription, spec: TableSpec): Check {
  const name = 'key schema';
  const keys = table.KeySchema ?? [];
  const hash = keys.find((k) => k.KeyType === 'HASH')?.AttributeName;
  const range = keys.find((k) => k.KeyType === 'RANGE')?.AttributeName;
  const type = table.AttributeDefinitions?.find((a) => a.AttributeName === hash)?.AttributeType;
  const newTable = `create a new table for sessions: ${createCommand({ ...spec, tableName: `${spec.tableName}-sessions` })}`;
  if (range !== undefined) {
    return problem(name, `the table has a sort key "${range}"; sessions need a partition key only`, newTable);
  }
  if (type !== 'S') {
    return problem(name, `partition key "${hash}" is of type ${type}; sessions need type S`, newTable);
  }
  if (hash !== spec.hashKey) {
    return problem(
      name,
      `partition key is "${hash}", not "${spec.hashKey}"`,
      `pass --hash-key ${hash} here and hashKey: '${hash}' to the store, or ${newTable}`,
    );
  }
  return ok(name, `partition key "${hash}" of type S, no sort key`);
}

/** The user index must exist, be ACTIVE and have the user id (type S) as its partition key. @internal */
export function checkUserIndex(table: TableDescription, spec: TableSpec): Check {
  const name = 'user index';
  const index = spec.userIndex ?? DEFAULTS.userIndex;
  const uid = spec.userIdAttribute;
  const gsi = table.GlobalSecondaryIndexes?.find((g) => g.IndexName === index);
  if (!gsi) {
    // a table without a billing summary is provisioned (the summary came with on-demand)
    const provisioned = table.BillingModeSummary?.BillingMode !== 'PAY_PER_REQUEST';
    const throughput = provisioned
      ? `,"ProvisionedThroughput":{"ReadCapacityUnits":${DEFAULTS.table.readCapacity},"WriteCapacityUnits":${DEFAULTS.table.writeCapacity}}`
      : '';
    const create =
      `[{"Create":{"IndexName":"${index}","KeySchema":[{"AttributeName":"${uid}","KeyType":"HASH"}],` +
      `"Projection":{"ProjectionType":"KEYS_ONLY"}${throughput}}}]`;
    const update = awsCommand(
      spec,
      'update-table',
      '--attribute-definitions',
      `AttributeName=${uid},AttributeType=S`,
      '--global-secondary-index-updates',
      `'${create}'`,
    );
    return problem(name, `no global secondary index "${index}"`, `${createCommand(spec)}\nor: ${update}`);
  }
  const hash = gsi.KeySchema?.find((k) => k.KeyType === 'HASH')?.AttributeName;
  const type = table.AttributeDefinitions?.find((a) => a.AttributeName === hash)?.AttributeType;
  if (hash !== uid || type !== 'S') {
    return problem(
      name,
      `index "${index}" has partition key "${hash}" (${type}), not "${uid}" (S)`,
      `pass --user-attribute ${hash} here and userIdAttribute: '${hash}' to the store if it holds user ids, ` +
        'or create another index with --index-name',
    );
  }
  if (gsi.IndexStatus !== 'ACTIVE') {
    const local = spec.endpoint && isLoopback(spec.endpoint) ? `\nor: ${LOCAL_INDEX_HINT}` : '';
    return problem(
      name,
      `index "${index}" is ${gsi.IndexStatus}`,
      `wait until it is ACTIVE, then run this again${local}`,
    );
  }
  return ok(name, `index "${index}" on "${uid}" (S) is ACTIVE`);
}

/**
 * Proves the credentials can do what the store does: PutItem, GetItem, UpdateItem and DeleteItem on
 * a probe item (`<prefix>doctor#<uuid>`, expiring in a minute) that it removes, and the per-user
 * calls: Query on the user index and BatchGetItem on the table. The key starts with the store's
 * prefix, as a `dynamodb:LeadingKeys` condition wants. A failed condition still proves the
 * permission. @internal
 */
export async function checkAccess(
  client: DynamoDBClient,
  spec: TableSpec,
  table: TableDescription,
  withIndex: boolean,
): Promise<Check[]> {
  const arn = table.TableArn ?? `table ${spec.tableName}`;
  const key = { [spec.hashKey]: { S: `${spec.prefix ?? DEFAULTS.prefix}doctor#${randomUUID()}` } };
  const names = { '#k': spec.hashKey, '#e': spec.expiresAttribute };
  const soon = { N: String(Math.floor(Date.now() / 1000) + 60) };
  const TableName = spec.tableName;
  const probe = async (action: string, send: () => Promise<unknown>, resource = arn): Promise<Check> => {
    const name = `${action} permission`;
    try {
      await send();
      return ok(name, `dynamodb:${action} works`);
    } catch (err) {
      if (err instanceof Error && err.name === 'ConditionalCheckFailedException') {
        return ok(name, `dynamodb:${action} works`);
      }
      return problem(name, `dynamodb:${action} failed: ${errorText(err)}`, accessFix(err, action, resource));
    }
  };
  const checks: Check[] = [];
  checks.push(
    await probe('PutItem', () =>
      client.send(
        new PutItemCommand({
          TableName,
          Item: { ...key, [spec.expiresAttribute]: soon },
          ConditionExpression: 'attribute_not_exists(#k)',
          ExpressionAttributeNames: { '#k': spec.hashKey },
        }),
      ),
    ),
  );
  checks.push(await probe('GetItem', () => client.send(new GetItemCommand({ TableName, Key: key }))));
  checks.push(
    await probe('UpdateItem', () =>
      client.send(
        new UpdateItemCommand({
          TableName,
          Key: key,
          UpdateExpression: 'SET #e = :e',
          ConditionExpression: 'attribute_exists(#k)',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: { ':e': soon },
        }),
      ),
    ),
  );
  const deleted = await probe('DeleteItem', () =>
    client.send(new DeleteItemCommand({ TableName, Key: key })),
  );
  if (deleted.status === 'problem' && checks[0]?.status === 'ok') {
    deleted.message += ` (the probe item ${key[spec.hashKey]?.S} expires in a minute; DynamoDB TTL then deletes it, usually within a few days, and nothing reads it meanwhile)`;
  }
  checks.push(deleted);
  if (withIndex && spec.userIndex) {
    const IndexName = spec.userIndex;
    const query = () =>
      client.send(
        new QueryCommand({
          TableName,
          IndexName,
          KeyConditionExpression: '#u = :u',
          ExpressionAttributeNames: { '#u': spec.userIdAttribute },
          ExpressionAttributeValues: { ':u': { S: 'doctor#probe' } },
          Limit: 1,
        }),
      );
    checks.push(await probe('Query', query, `${arn}/index/${IndexName}`));
  }
  if (spec.userIndex) {
    // listUserSessions reads each listed session's expiry and owner this way; the probe item is gone
    const batch = () =>
      client.send(
        new BatchGetItemCommand({ RequestItems: { [TableName]: { Keys: [key], ConsistentRead: true } } }),
      );
    checks.push(await probe('BatchGetItem', batch));
  }
  return checks;
}

/** Where the checks run: the region of `client`, and clients for the other replicas' regions. @internal */
export interface Where {
  region: string;
  /** A client for another region; `undefined` when it cannot be reached (an --endpoint reaches one). */
  clientFor(region: string): DynamoDBClient | undefined;
}

/** Every check, in order; later checks are skipped when what they need is broken. @internal */
export async function runChecks(
  client: DynamoDBClient,
  spec: TableSpec,
  access: boolean,
  where: Where,
): Promise<Check[]> {
  const { check, table } = await checkTable(client, spec);
  if (!table) return [check];
  const checks = [check];
  const schema = checkKeySchema(table, spec);
  const ttl = await describeTtl(client, spec.tableName);
  checks.push(schema, checkTtl(ttl, spec, isStronglyConsistent(table)));
  const index = spec.userIndex ? checkUserIndex(table, spec) : undefined;
  if (index) checks.push(index);
  const ttls = await replicaTtls(table, spec, where.region, ttl, where.clientFor);
  checks.push(...globalTableChecks(table, spec, where.region, ttls));
  if (!access) return checks;
  if (schema.status !== 'ok' || check.status !== 'ok') {
    checks.push({
      name: 'permissions',
      status: 'skipped',
      message: 'permissions not probed: fix the table first',
    });
    return checks;
  }
  checks.push(...(await checkAccess(client, spec, table, index?.status === 'ok')));
  return checks;
}
