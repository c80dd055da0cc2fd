/** The `dynamodb-sessions` CLI as a child process, against the run's DynamoDB Local. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import {
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  type DynamoDBClient,
  ScanCommand,
} from '@aws-sdk/client-dynamodb';
import { freePort } from '../../dev/dynamodb-local.ts';
import { cli, type Run } from './cli-run.ts';
import { endpoint, freshTable, localClient } from './helpers.ts';

let client: DynamoDBClient;
let where: string[];
const tableName = () => `cli_${randomBytes(5).toString('hex')}`;

before(async () => {
  client = await localClient();
  where = ['--region', 'us-east-1', '--endpoint', await endpoint()];
});
after(() => client.destroy());

function checks(run: Run): { name: string; status: string; message: string; fix?: string }[] {
  return JSON.parse(run.stdout).checks;
}

test('create-table creates the table with TTL on, and a second run says it exists', async () => {
  const table = tableName();
  const first = await cli('create-table', '--table', table, ...where);
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, new RegExp(`Created table "${table}" \\(partition key id: S, on-demand\\)`));
  const { Table } = await client.send(new DescribeTableCommand({ TableName: table }));
  assert.deepEqual(Table?.KeySchema, [{ AttributeName: 'id', KeyType: 'HASH' }]);
  assert.equal(Table?.BillingModeSummary?.BillingMode, 'PAY_PER_REQUEST');
  const ttl = await client.send(new DescribeTimeToLiveCommand({ TableName: table }));
  assert.equal(ttl.TimeToLiveDescription?.AttributeName, 'expires');
  assert.equal(ttl.TimeToLiveDescription?.TimeToLiveStatus, 'ENABLED');

  const second = await cli('create-table', '--table', table, ...where);
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stdout, new RegExp(`Table "${table}" already exists`));
  assert.match(second.stdout, /ok +TTL is on: attribute "expires"/);
});

test('create-table --json reports a provisioned table with its user index', async () => {
  const table = tableName();
  const args = ['--billing', 'provisioned', '--rcu', '3', '--wcu', '2', '--user-index', '--hash-key', 'sid'];
  const run = await cli(
    'create-table',
    '--table',
    table,
    ...args,
    '--ttl-attribute',
    'exp',
    ...where,
    '--json',
  );
  assert.equal(run.code, 0, run.stderr);
  const out = JSON.parse(run.stdout);
  assert.equal(out.created, true);
  assert.equal(out.ok, true);
  assert.deepEqual(
    out.checks.map((c: { name: string; status: string }) => [c.name, c.status]),
    [
      ['table', 'ok'],
      ['key schema', 'ok'],
      ['ttl', 'ok'],
      ['user index', 'ok'],
    ],
  );
  const { Table } = await client.send(new DescribeTableCommand({ TableName: table }));
  assert.deepEqual(Table?.KeySchema, [{ AttributeName: 'sid', KeyType: 'HASH' }]);
  assert.equal(Table?.ProvisionedThroughput?.ReadCapacityUnits, 3);
  assert.equal(Table?.ProvisionedThroughput?.WriteCapacityUnits, 2);
  assert.equal(Table?.GlobalSecondaryIndexes?.[0]?.IndexName, 'uid-index');
  const ttl = await client.send(new DescribeTimeToLiveCommand({ TableName: table }));
  assert.equal(ttl.TimeToLiveDescription?.AttributeName, 'exp');
});

test('doctor passes on a good table and leaves no probe item behind', async () => {
  const table = await freshTable(client);
  const run = await cli('doctor', '--table', table, ...where);
  assert.equal(run.code, 0, run.stdout + run.stderr);
  for (const op of ['PutItem', 'GetItem', 'UpdateItem', 'DeleteItem']) {
    assert.match(run.stdout, new RegExp(`ok +dynamodb:${op} works`));
  }
  assert.match(run.stdout, /All checks passed\./);
  assert.doesNotMatch(run.stdout, /problem/);
  const { Count } = await client.send(new ScanCommand({ TableName: table, ConsistentRead: true }));
  assert.equal(Count, 0);
});

test('doctor --json lists every check as ok', async () => {
  const table = await freshTable(client);
  const run = await cli('doctor', '--table', table, ...where, '--json');
  assert.equal(run.code, 0, run.stderr);
  assert.equal(JSON.parse(run.stdout).ok, true);
  const list = checks(run);
  assert.equal(list.length, 7);
  assert.ok(list.every((c) => c.status === 'ok'));
});

test('doctor fails on a table with a sort key and a numeric partition key', async () => {
  const table = tableName();
  await client.send(
    new CreateTableCommand({
      TableName: table,
      AttributeDefinitions: [
        { AttributeName: 'id', AttributeType: 'N' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: 'id', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  const run = await cli('doctor', '--table', table, ...where, '--json');
  assert.equal(run.code, 1);
  const schema = checks(run).find((c) => c.name === 'key schema');
  assert.equal(schema?.status, 'problem');
  assert.match(schema?.message ?? '', /sort key "sk"/);
  assert.match(schema?.fix ?? '', /create-table/);
  // the probe is not sent to a table it cannot fit
  assert.equal(checks(run).find((c) => c.name === 'permissions')?.status, 'skipped');
});

test('doctor names the partition key when it has another name', async () => {
  const table = await freshTable(client, { hashKey: 'pk' });
  const run = await cli('doctor', '--table', table, ...where);
  assert.equal(run.code, 1);
  assert.match(run.stdout, /problem +partition key is "pk", not "id"/);
  assert.match(run.stdout, /fix: pass --hash-key pk/);
  const fixed = await cli('doctor', '--table', table, '--hash-key', 'pk', ...where);
  assert.equal(fixed.code, 0, fixed.stdout);
});

test('doctor fails on a table without TTL and prints the command that enables it', async () => {
  const table = tableName();
  await client.send(
    new CreateTableCommand({
      TableName: table,
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  const run = await cli('doctor', '--table', table, ...where);
  assert.equal(run.code, 1);
  assert.match(run.stdout, /problem +TTL is off/);
  assert.match(
    run.stdout,
    new RegExp(
      `aws dynamodb update-time-to-live --table-name ${table} --time-to-live-specification Enabled=true,AttributeName=expires`,
    ),
  );
  assert.match(run.stdout, /1 problem found\./);
});

test('doctor fails clearly on a missing table', async () => {
  const table = tableName();
  const run = await cli('doctor', '--table', table, ...where);
  assert.equal(run.code, 1);
  assert.match(run.stdout, new RegExp(`problem +table "${table}" not found in us-east-1`));
  assert.match(
    run.stdout,
    new RegExp(`fix: npx dynamodb-sessions create-table --table ${table} --region us-east-1`),
  );
});

test('doctor --user-index passes with the index and probes Query on it', async () => {
  const table = await freshTable(client, { userIndex: true });
  const run = await cli('doctor', '--table', table, '--user-index', ...where);
  assert.equal(run.code, 0, run.stdout);
  assert.match(run.stdout, /ok +index "uid-index" on "uid" \(S\) is ACTIVE/);
  assert.match(run.stdout, /ok +dynamodb:Query works/);
});

test('doctor --user-index fails without the index and prints how to add it', async () => {
  const table = await freshTable(client);
  const run = await cli('doctor', '--table', table, '--user-index', ...where, '--json');
  assert.equal(run.code, 1);
  const index = checks(run).find((c) => c.name === 'user index');
  assert.equal(index?.status, 'problem');
  assert.match(index?.message ?? '', /no global secondary index "uid-index"/);
  assert.match(
    index?.fix ?? '',
    new RegExp(`^npx dynamodb-sessions create-table --table ${table} --user-index`),
  );
  assert.match(index?.fix ?? '', /\nor: aws dynamodb update-table .*"IndexName":"uid-index"/);
  // without --user-index the same table is fine
  assert.equal((await cli('doctor', '--table', table, ...where)).code, 0);
});

test('doctor reports an unreachable DynamoDB as a problem', async () => {
  const port = await freePort();
  const run = await cli(
    'doctor',
    '--table',
    'sessions',
    '--region',
    'us-east-1',
    '--endpoint',
    `http://127.0.0.1:${port}`,
  );
  assert.equal(run.code, 1);
  assert.match(run.stdout, /problem +cannot describe the table: .*ECONNREFUSED/);
});

test('create-table --user-index refuses an index of that name on another attribute', async () => {
  const table = await freshTable(client, { userIndex: true });
  const run = await cli(
    'create-table',
    '--table',
    table,
    '--user-index',
    '--user-attribute',
    'owner',
    ...where,
  );
  assert.equal(run.code, 1);
  assert.match(run.stderr, /MissingIndexError: user index "uid-index" exists on "uid", not on "owner"/);
});

test('cost --regions 2 prints the replicated write cost of a global table', async () => {
  const run = await cli('cost', '--regions', '2');
  assert.equal(run.code, 0, run.stderr);
  assert.match(
    run.stdout,
    /^DynamoDB session table cost \(provisioned capacity, 720 h\/month, global table in 2 regions\)$/m,
  );
  assert.match(
    run.stdout,
    /^ {12}Replicated writes: 2 replicas x 100 rWCU x 720 h x \$0\.00065 = \$93\.60$/m,
  );
  assert.match(run.stdout, /^Total: \$180\/month$/m);
  const onDemand = await cli('cost', '--regions', '2', '--billing', 'on-demand', '--json');
  const out = JSON.parse(onDemand.stdout);
  assert.equal(out.replication.regions, 2);
  assert.equal(out.replication.unitsPerMonth, 14_000_000);
  assert.equal(out.replication.writeCost, 8.75);
  assert.equal(out.storage.replicas, 2);
  const bad = await cli('cost', '--regions', '0');
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--regions: expected a whole number >= 1, got 0/);
});

test('cost prints the worked example total', async () => {
  const run = await cli('cost');
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /^Total: \$129\/month$/m);
  assert.match(run.stdout, /What changes/);
  const onDemand = await cli('cost', '--billing', 'on-demand', '--consistent');
  assert.match(onDemand.stdout, /^Total: \$548\/month$/m);
});

test('cost --json gives the figures', async () => {
  const run = await cli('cost', '--json', '--session-kb', '4', '--price-gb-month', '0.5');
  assert.equal(run.code, 0, run.stderr);
  const out = JSON.parse(run.stdout);
  assert.equal(out.inputs.sessionKb, 4);
  assert.equal(out.storage.gb, 32);
  assert.equal(out.storage.cost, 16);
  assert.equal(out.writes.unitsPerOp, 4);
  assert.equal(out.totalRounded, Math.round(out.total));
  assert.equal(out.variants.length, 4);
});

test('bad flags exit 2 with a message naming the flag', async () => {
  const cases: [string[], RegExp][] = [
    [['cost', '--rpm', 'lots'], /--rpm: expected a number, got "lots"/],
    [['cost', '--compress-ratio', '3'], /--compress-ratio: expected a ratio in \(0, 1\]/],
    [['cost', '--billing', 'spot'], /--billing: expected provisioned or on-demand/],
    [['cost', '--frobnicate'], /unknown flag --frobnicate for cost/],
    [['doctor', '--region', 'us-east-1'], /--table is required/],
    [['create-table', '--table', 'abc', '--rcu', '5'], /--rcu needs --billing provisioned/],
    [['create-table', '--table'], /--table needs a value/],
    [['frob'], /unknown command "frob"/],
    [[], /a command is needed/],
  ];
  for (const [args, message] of cases) {
    const run = await cli(...args);
    assert.equal(run.code, 2, args.join(' '));
    assert.match(run.stderr, message);
    assert.equal(run.stdout, '');
  }
  const json = await cli('cost', '--json', '--stored', '-');
  assert.equal(json.code, 2);
  assert.deepEqual(JSON.parse(json.stdout).error.flag, '--stored');
});

test('--help describes the CLI and each command', async () => {
  const main = await cli('--help');
  assert.equal(main.code, 0);
  for (const command of ['create-table', 'doctor', 'cost'])
    assert.match(main.stdout, new RegExp(`^  ${command} `, 'm'));
  const cost = await cli('cost', '--help');
  assert.equal(cost.code, 0);
  assert.match(
    cost.stdout,
    /--price-rcu-hour \$ +provisioned: price of one RCU per hour \(default 0\.00013\)/,
  );
  const doctor = await cli('help', 'doctor');
  assert.match(doctor.stdout, /^Usage: dynamodb-sessions doctor --table NAME/);
  const create = await cli('create-table', '-h');
  assert.match(create.stdout, /--billing MODE/);
});
