/**
 * The CLI on a machine with no AWS settings, and adding the user index to an existing table; the
 * index tests run on a DynamoDB Local of their own.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DescribeTableCommand, DynamoDBClient, PutItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { type LocalDynamoDB, startDynamoDBLocal } from '../../dev/dynamodb-local.ts';
import { addUserIndex } from '../../src/index.ts';
import { bare, cli, cliIn, env } from './cli-run.ts';
import { endpoint, freshTable, localClient } from './helpers.ts';

let client: DynamoDBClient;
let where: string[];
const tableName = () => `cli_${randomBytes(5).toString('hex')}`;

before(async () => {
  client = await localClient();
  where = ['--region', 'us-east-1', '--endpoint', await endpoint()];
});
after(() => client.destroy());

test('doctor and create-table print no AWS SDK Node version notice', async () => {
  // the notice is real here: a plain client in the same environment prints it on Node < 22
  const control = await new Promise<string>((resolve) => {
    const code = "new (require('@aws-sdk/client-dynamodb').DynamoDBClient)({ region: 'us-east-1' })";
    execFile(process.execPath, ['-e', code], { env }, (_err, _stdout, stderr) => resolve(stderr));
  });
  const major = Number(process.versions.node.split('.')[0]);
  if (major < 22) assert.match(control, /NodeVersionSupportWarning/);
  const table = tableName();
  const runs = [
    await cli('create-table', '--table', table, ...where),
    await cli('doctor', '--table', table, ...where),
    await cli('doctor', '--table', table, ...where, '--json'),
  ];
  for (const run of runs) {
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.doesNotMatch(run.stderr + run.stdout, /NodeVersionSupportWarning|will require node/);
    assert.equal(run.stderr, '');
  }
});

test('the bundled CLI, as the package ships it, prints no AWS SDK Node version notice either', async () => {
  // the package declares sideEffects: false, so a bundler drops a module kept only for its side effect
  const out = join('node_modules', '.cache', `cli-bundle-${randomBytes(4).toString('hex')}`);
  try {
    const build = await run('npx', [
      'tsup',
      'cli/main.ts',
      '--no-config',
      '--format',
      'esm',
      '--target',
      'node20',
      '--out-dir',
      out,
      '--silent',
    ]);
    assert.equal(build.code, 0, build.stderr);
    const table = tableName();
    const made = await run(
      process.execPath,
      [join(out, 'main.js'), 'create-table', '--table', table, ...where],
      env,
    );
    assert.equal(made.code, 0, made.stdout + made.stderr);
    assert.doesNotMatch(made.stderr, /NodeVersionSupportWarning|will require node/);
    assert.equal(made.stderr, '');
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

function run(
  command: string,
  args: string[],
  environment: NodeJS.ProcessEnv = process.env,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(command, args, { env: environment, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

test('with a loopback --endpoint and no AWS settings, the CLI signs with dummy keys and says so', async () => {
  const table = tableName();
  const run = await cliIn(bare, 'create-table', '--table', table, '--endpoint', await endpoint());
  assert.equal(run.code, 0, run.stdout + run.stderr);
  assert.match(run.stdout, new RegExp(`Created table "${table}" .* in us-east-1\\.`));
  assert.match(
    run.stderr,
    /^dynamodb-sessions: note: no AWS credentials or region set: using access key id "local" and region us-east-1 for DynamoDB Local at http:\/\/127\.0\.0\.1:\d+, which accepts any keys$/m,
  );
  // the table is where an app with the same keys and region looks (DynamoDB Local keeps one per key)
  const { Table } = await client.send(new DescribeTableCommand({ TableName: table }));
  assert.equal(Table?.TableStatus, 'ACTIVE');
  const doctor = await cliIn(bare, 'doctor', '--table', table, '--endpoint', await endpoint(), '--json');
  assert.equal(doctor.code, 0, doctor.stdout);
  assert.equal(JSON.parse(doctor.stdout).notes.length, 1);
  // the endpoint an app gets from AWS_ENDPOINT_URL_DYNAMODB works the same way
  const fromEnvironment = { ...bare, AWS_ENDPOINT_URL_DYNAMODB: await endpoint() };
  const viaEnvironment = await cliIn(fromEnvironment, 'doctor', '--table', table);
  assert.equal(viaEnvironment.code, 0, viaEnvironment.stdout + viaEnvironment.stderr);
  assert.match(
    viaEnvironment.stdout,
    new RegExp(`^Checking table "${table}" \\(us-east-1, http://127\\.0\\.0\\.1:\\d+\\)$`, 'm'),
  );
  assert.match(viaEnvironment.stderr, /using access key id "local" and region us-east-1 for DynamoDB Local/);
  // keys that are set are used as they are
  const withKeys = await cliIn(env, 'doctor', '--table', table, '--endpoint', await endpoint());
  assert.equal(withKeys.code, 0);
  assert.match(withKeys.stderr, /^dynamodb-sessions: note: no region set: using region us-east-1/);
  assert.doesNotMatch(withKeys.stderr, /access key id/);
});

test('without --endpoint, missing credentials or region fail in one line naming what to set', async () => {
  const noCredentials = await cliIn(bare, 'doctor', '--table', 'sessions', '--region', 'us-east-1');
  assert.equal(noCredentials.code, 1);
  assert.equal(
    noCredentials.stderr,
    'dynamodb-sessions: no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE ' +
      '(for DynamoDB Local, pass --endpoint http://127.0.0.1:8000)\n',
  );
  assert.equal(noCredentials.stdout, '');
  const noRegion = await cliIn(env, 'create-table', '--table', 'sessions');
  assert.equal(noRegion.code, 1);
  assert.equal(
    noRegion.stderr,
    'dynamodb-sessions: no AWS region: pass --region or set AWS_REGION (or AWS_PROFILE with a region)\n',
  );
  const json = await cliIn(bare, 'doctor', '--table', 'sessions', '--region', 'us-east-1', '--json');
  assert.equal(JSON.parse(json.stdout).error.kind, 'setup');
  // an endpoint that is not loopback is not taken for DynamoDB Local
  const remote = await cliIn(
    bare,
    'doctor',
    '--table',
    'sessions',
    '--region',
    'us-east-1',
    '--endpoint',
    'http://dynamodb.invalid:8000',
  );
  assert.equal(remote.code, 1);
  assert.match(
    remote.stderr,
    /no AWS credentials: .*DynamoDB Local accepts any, e\.g\. AWS_ACCESS_KEY_ID=local/,
  );
});

describe('on a DynamoDB Local of its own', () => {
  // the shared one stops building added indexes once 7 of its tables have TTL on: it runs its
  // background jobs on 10 threads, and each table with TTL keeps one
  let local: LocalDynamoDB;
  let own: DynamoDBClient;
  let ownWhere: string[];
  before(async () => {
    local = await startDynamoDBLocal();
    own = new DynamoDBClient({
      region: 'us-east-1',
      endpoint: local.endpoint,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    ownWhere = ['--region', 'us-east-1', '--endpoint', local.endpoint];
  });
  after(async () => {
    own.destroy();
    await local.stop();
  });

  test('create-table --user-index adds the index to an existing on-demand table, then has nothing to do', async () => {
    const table = await freshTable(own);
    await own.send(
      new PutItemCommand({ TableName: table, Item: { id: { S: 'session#a' }, uid: { S: 'alice' } } }),
    );
    const first = await cli('create-table', '--table', table, '--user-index', ...ownWhere);
    assert.equal(first.code, 0, first.stdout + first.stderr);
    assert.match(
      first.stdout,
      new RegExp(
        `^Table "${table}" already exists in us-east-1\\. Added index "uid-index" on "uid" \\(S, keys only\\)\\.$`,
        'm',
      ),
    );
    assert.match(first.stderr, new RegExp(`adding index "uid-index" to table "${table}"`));
    assert.match(first.stdout, /ok +index "uid-index" on "uid" \(S\) is ACTIVE/);
    const { Table } = await own.send(new DescribeTableCommand({ TableName: table }));
    const gsi = Table?.GlobalSecondaryIndexes?.find((g) => g.IndexName === 'uid-index');
    assert.equal(gsi?.IndexStatus, 'ACTIVE');
    assert.deepEqual(gsi?.KeySchema, [{ AttributeName: 'uid', KeyType: 'HASH' }]);
    assert.equal(gsi?.Projection?.ProjectionType, 'KEYS_ONLY');
    assert.equal(gsi?.ProvisionedThroughput?.ReadCapacityUnits ?? 0, 0);
    // the existing item is in the index
    const found = await own.send(
      new QueryCommand({
        TableName: table,
        IndexName: 'uid-index',
        KeyConditionExpression: 'uid = :u',
        ExpressionAttributeValues: { ':u': { S: 'alice' } },
      }),
    );
    assert.deepEqual(
      found.Items?.map((i) => i.id?.S),
      ['session#a'],
    );

    const second = await cli('create-table', '--table', table, '--user-index', ...ownWhere, '--json');
    assert.equal(second.code, 0, second.stderr);
    const out = JSON.parse(second.stdout);
    assert.equal(out.created, false);
    assert.equal(out.indexCreated, false);
    assert.equal(out.indexStatus, 'ACTIVE');
    assert.doesNotMatch(second.stderr, /adding index/);
    const doctor = await cli('doctor', '--table', table, '--user-index', ...ownWhere);
    assert.equal(doctor.code, 0, doctor.stdout);
  });

  test('create-table --user-index adds the index to a provisioned table with its own capacity', async () => {
    const table = await freshTable(own, { billing: 'provisioned', readCapacity: 2, writeCapacity: 2 });
    const args = [
      '--user-index',
      '--index-name',
      'by-user',
      '--user-attribute',
      'owner',
      '--billing',
      'provisioned',
    ];
    const run = await cli('create-table', '--table', table, ...args, '--rcu', '3', '--wcu', '4', ...ownWhere);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.match(run.stdout, /Added index "by-user" on "owner" \(S, keys only\)\./);
    const { Table } = await own.send(new DescribeTableCommand({ TableName: table }));
    const gsi = Table?.GlobalSecondaryIndexes?.find((g) => g.IndexName === 'by-user');
    assert.equal(gsi?.IndexStatus, 'ACTIVE');
    assert.deepEqual(gsi?.KeySchema, [{ AttributeName: 'owner', KeyType: 'HASH' }]);
    assert.equal(gsi?.ProvisionedThroughput?.ReadCapacityUnits, 3);
    assert.equal(gsi?.ProvisionedThroughput?.WriteCapacityUnits, 4);
    // the table keeps its own capacity
    assert.equal(Table?.ProvisionedThroughput?.ReadCapacityUnits, 2);
    const again = await cli('create-table', '--table', table, ...args, ...ownWhere);
    assert.equal(again.code, 0, again.stdout);
    assert.match(again.stdout, /It has index "by-user" on "owner" \(S, keys only\)\./);
  });

  test('addUserIndex run twice at once leaves one ACTIVE index, and a third run has nothing to do', async () => {
    const table = await freshTable(own);
    const runs = await Promise.all([
      addUserIndex(own, { tableName: table }),
      addUserIndex(own, { tableName: table }),
    ]);
    // DynamoDB Local may accept both requests (AWS refuses the second); either way no run fails
    assert.ok(runs.some((r) => r.created));
    assert.deepEqual(
      runs.map((r) => r.status),
      ['ACTIVE', 'ACTIVE'],
    );
    const { Table } = await own.send(new DescribeTableCommand({ TableName: table }));
    assert.deepEqual(
      Table?.GlobalSecondaryIndexes?.map((g) => [g.IndexName, g.IndexStatus]),
      [['uid-index', 'ACTIVE']],
    );
    assert.deepEqual(await addUserIndex(own, { tableName: table }), { created: false, status: 'ACTIVE' });
  });
});
