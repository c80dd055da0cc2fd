/**
 * `template` in every format, checked by what reads it: the CloudFormation table is created on
 * DynamoDB Local and passes `doctor`; the CDK snippet compiles under `tsc --strict` and synthesizes
 * with aws-cdk-lib; the Terraform text parses as HCL. All describe the same table.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  type DynamoDBClient,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { parse as parseHcl } from '@cdktf/hcl2json';
import { parse as parseYaml } from 'yaml';
import { cli } from './cli-run.ts';
import { endpoint, localClient } from './helpers.ts';

type Json = Record<string, unknown>;

/** The two tables every format is checked with: the defaults with the user index, and every flag changed. */
const cases = {
  indexed: ['--table', 'sessions', '--user-index'],
  custom: [
    '--table',
    'app.sessions',
    '--hash-key',
    'sid',
    '--ttl-attribute',
    'exp',
    '--user-index',
    '--index-name',
    'by-user',
    '--user-attribute',
    'owner',
    '--billing',
    'provisioned',
    '--rcu',
    '3',
    '--wcu',
    '2',
    '--no-pitr',
    '--no-deletion-protection',
  ],
};
type Case = keyof typeof cases;

/** The case's flags that doctor takes, for another table name: not billing, recovery or protection. */
function doctorFlags(name: Case, tableName: string): string[] {
  const flags: string[] = ['--region', 'us-east-1'];
  const given = cases[name];
  for (let n = 0; n < given.length; n++) {
    const flag = given[n] ?? '';
    if (/^--(billing|rcu|wcu)$/.test(flag)) n++;
    else if (flag === '--table') {
      flags.push(flag, tableName);
      n++;
    } else if (!flag.startsWith('--no-')) flags.push(flag);
  }
  return flags;
}

let client: DynamoDBClient;
const scratch = join('node_modules', '.cache', `template-test-${randomBytes(4).toString('hex')}`);

before(async () => {
  client = await localClient();
  await mkdir(scratch, { recursive: true });
});
after(async () => {
  client.destroy();
  await rm(scratch, { recursive: true, force: true });
});

const printed = new Map<string, Promise<string>>();

/** The command's output for a case (each command line runs once per file). */
function template(name: Case, ...flags: string[]): Promise<string> {
  const args = ['template', ...cases[name], ...flags];
  let text = printed.get(args.join(' '));
  if (!text) {
    text = cli(...args).then((run) => {
      assert.equal(run.code, 0, run.stderr);
      return run.stdout;
    });
    printed.set(args.join(' '), text);
  }
  return text;
}

async function cloudFormation(name: Case): Promise<Json> {
  return parseYaml(await template(name, '--format', 'cloudformation')) as Json;
}

/** What a table is, in one shape whatever declared it. */
interface Shape {
  tableName: unknown;
  hashKey: unknown;
  attributes: unknown;
  billing: unknown;
  capacity: unknown;
  index: unknown;
  ttl: unknown;
  pitr: unknown;
  deletionProtection: unknown;
  retained: boolean;
}

const at = (value: unknown, ...path: (string | number)[]): unknown =>
  path.reduce<unknown>((v, k) => (v as Record<string | number, unknown> | undefined)?.[k], value);
const byName = (list: unknown) =>
  [...((list as Json[] | undefined) ?? [])].sort((a, b) =>
    String(a.AttributeName ?? a.name).localeCompare(String(b.AttributeName ?? b.name)),
  );

/** From an `AWS::DynamoDB::Table`, or the `AWS::DynamoDB::GlobalTable` that CDK's TableV2 makes. */
function shapeOfResource(resource: Json): Shape {
  const p = resource.Properties as Json;
  const global = resource.Type === 'AWS::DynamoDB::GlobalTable';
  const replica = global ? at(p, 'Replicas', 0) : p;
  const gsi = at(p, 'GlobalSecondaryIndexes', 0);
  const capacity = (of: unknown, replicaOf: unknown) =>
    global
      ? at(replicaOf, 'ReadProvisionedThroughputSettings') && [
          at(replicaOf, 'ReadProvisionedThroughputSettings', 'ReadCapacityUnits'),
          at(of, 'WriteProvisionedThroughputSettings', 'WriteCapacityAutoScalingSettings', 'MinCapacity'),
          at(of, 'WriteProvisionedThroughputSettings', 'WriteCapacityAutoScalingSettings', 'MaxCapacity'),
        ]
      : at(of, 'ProvisionedThroughput') && [
          at(of, 'ProvisionedThroughput', 'ReadCapacityUnits'),
          at(of, 'ProvisionedThroughput', 'WriteCapacityUnits'),
          at(of, 'ProvisionedThroughput', 'WriteCapacityUnits'),
        ];
  return {
    tableName: p.TableName,
    hashKey: at(p, 'KeySchema'),
    attributes: byName(p.AttributeDefinitions).map((a) => [a.AttributeName, a.AttributeType]),
    billing: p.BillingMode,
    capacity: capacity(p, replica) || undefined,
    index: gsi && {
      name: at(gsi, 'IndexName'),
      keys: at(gsi, 'KeySchema'),
      projection: at(gsi, 'Projection', 'ProjectionType'),
      capacity: capacity(gsi, at(replica, 'GlobalSecondaryIndexes', 0)) || undefined,
    },
    ttl: p.TimeToLiveSpecification,
    pitr: at(replica, 'PointInTimeRecoverySpecification', 'PointInTimeRecoveryEnabled') ?? false,
    deletionProtection: at(replica, 'DeletionProtectionEnabled') ?? false,
    retained: resource.DeletionPolicy === 'Retain',
  };
}

/** The one table of a template, its shape, and its outputs with the table's logical id as `TABLE`. */
function tableOf(template: Json): { shape: Shape; outputs: unknown } {
  const resources = Object.entries(template.Resources as Record<string, Json>).filter(([, r]) =>
    String(r.Type).startsWith('AWS::DynamoDB::'),
  );
  assert.equal(resources.length, 1);
  const [id, resource] = resources[0] as [string, Json];
  const outputs = JSON.parse(JSON.stringify(template.Outputs).replaceAll(`"${id}"`, '"TABLE"'));
  for (const output of Object.values(outputs as Record<string, Json>)) delete output.Description;
  return { shape: shapeOfResource(resource), outputs };
}

test('the CloudFormation table, created as CreateTable, passes doctor with its user index', async () => {
  for (const name of Object.keys(cases) as Case[]) {
    const json = await template(name, '--format', 'cloudformation', '--output', 'json');
    const yaml = await cloudFormation(name);
    assert.deepEqual(JSON.parse(json), yaml, 'the JSON and the YAML say the same');
    const resource = at(yaml, 'Resources', 'SessionTable') as Json;
    const p = resource.Properties as Json;
    const tableName = `tpl_${randomBytes(5).toString('hex')}`;
    // TTL is its own call; point-in-time recovery is left out, as DynamoDB Local has no backups
    const { TimeToLiveSpecification, PointInTimeRecoverySpecification: _pitr, ...create } = p;
    await client.send(
      new CreateTableCommand({ ...(create as unknown as CreateTableCommandInput), TableName: tableName }),
    );
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: tableName,
        TimeToLiveSpecification: TimeToLiveSpecification as { AttributeName: string; Enabled: boolean },
      }),
    );
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    const ttl = await client.send(new DescribeTimeToLiveCommand({ TableName: tableName }));
    assert.equal(ttl.TimeToLiveDescription?.TimeToLiveStatus, 'ENABLED');
    assert.equal(Table?.GlobalSecondaryIndexes?.[0]?.Projection?.ProjectionType, 'KEYS_ONLY');
    assert.equal(Table?.DeletionProtectionEnabled, p.DeletionProtectionEnabled);
    assert.equal(
      Table?.ProvisionedThroughput?.WriteCapacityUnits ?? 0,
      at(p, 'ProvisionedThroughput', 'WriteCapacityUnits') ?? 0,
    );
    const run = await cli(
      'doctor',
      ...doctorFlags(name, tableName),
      '--endpoint',
      await endpoint(),
      '--json',
    );
    assert.equal(run.code, 0, run.stdout + run.stderr);
    const checks: { name: string; status: string }[] = JSON.parse(run.stdout).checks;
    assert.deepEqual(
      checks.filter((c) => c.status !== 'ok'),
      [],
    );
    assert.ok(checks.some((c) => c.name === 'BatchGetItem permission'));
    assert.ok(checks.some((c) => c.name === 'user index'));
  }
});

test('the CloudFormation template keeps the table, and turns recovery and protection off only when told', async () => {
  const indexed = tableOf(await cloudFormation('indexed'));
  assert.deepEqual(indexed.shape, {
    tableName: 'sessions',
    hashKey: [{ AttributeName: 'id', KeyType: 'HASH' }],
    attributes: [
      ['id', 'S'],
      ['uid', 'S'],
    ],
    billing: 'PAY_PER_REQUEST',
    capacity: undefined,
    index: {
      name: 'uid-index',
      keys: [{ AttributeName: 'uid', KeyType: 'HASH' }],
      projection: 'KEYS_ONLY',
      capacity: undefined,
    },
    ttl: { AttributeName: 'expires', Enabled: true },
    pitr: true,
    deletionProtection: true,
    retained: true,
  });
  assert.deepEqual(indexed.outputs, {
    SessionTableName: { Value: { Ref: 'TABLE' } },
    SessionTableArn: { Value: { 'Fn::GetAtt': ['TABLE', 'Arn'] } },
  });
  const custom = tableOf(await cloudFormation('custom')).shape;
  assert.deepEqual([custom.pitr, custom.deletionProtection, custom.retained], [false, false, false]);
  assert.deepEqual(custom.capacity, [3, 2, 2]);
  const sam = parseYaml(await template('indexed', '--format', 'sam')) as Json;
  assert.equal(sam.Transform, 'AWS::Serverless-2016-10-31');
  assert.deepEqual(tableOf(sam), indexed);
  const plain = parseYaml(
    (await cli('template', '--format', 'cloudformation', '--table', 'sessions')).stdout,
  ) as Json;
  assert.equal(at(plain, 'Resources', 'SessionTable', 'Properties', 'GlobalSecondaryIndexes'), undefined);
});

test('the CDK snippet compiles under tsc --strict and synthesizes to the CloudFormation table', async () => {
  const names = Object.keys(cases) as Case[];
  for (const name of names)
    await writeFile(join(scratch, `${name}.ts`), await template(name, '--format', 'cdk'));
  const imports = names.map((n) => `import { sessionTable as ${n} } from './${n}.js';`).join('\n');
  const stacks = names.map((n) => `${n}(new Stack(app, '${n}'));`).join('\n');
  await writeFile(
    join(scratch, 'synth.ts'),
    `import { App, Stack } from 'aws-cdk-lib';\n${imports}\n` +
      `const app = new App({ analyticsReporting: false });\n${stacks}\n` +
      `const assembly = app.synth();\n` +
      `process.stdout.write(JSON.stringify(Object.fromEntries(${JSON.stringify(names)}.map((n) => [n, assembly.getStackByName(n).template]))));\n`,
  );
  await writeFile(join(scratch, 'package.json'), '{ "type": "module" }\n');
  const run = promisify(execFile);
  const tsc = join(process.cwd(), 'node_modules', 'typescript', 'bin', 'tsc');
  // one compile of both snippets (slow: aws-cdk-lib's types), then one synth of both stacks
  await run(
    process.execPath,
    [
      tsc,
      '--strict',
      '--target',
      'es2022',
      '--module',
      'nodenext',
      '--skipLibCheck',
      '--types',
      'node',
      '--outDir',
      'out',
      ...names.map((n) => `${n}.ts`),
      'synth.ts',
    ],
    { cwd: scratch },
  ).catch((err: { stdout?: string }) => assert.fail(`tsc --strict failed:\n${err.stdout}`));
  await writeFile(join(scratch, 'out', 'package.json'), '{ "type": "module" }\n');
  const { stdout } = await run(process.execPath, ['out/synth.js'], {
    cwd: scratch,
    maxBuffer: 16 * 1024 * 1024,
    env: { ...process.env, CDK_DISABLE_VERSION_CHECK: '1' },
  });
  const synthesized = JSON.parse(stdout) as Record<Case, Json>;
  for (const name of names) {
    const cdk = tableOf(synthesized[name]);
    const cfn = tableOf(await cloudFormation(name));
    assert.equal(
      at(synthesized[name], 'Resources', Object.keys(synthesized[name].Resources as Json)[0] ?? '', 'Type'),
      'AWS::DynamoDB::GlobalTable',
    );
    assert.deepEqual(cdk, cfn, `${name}: the CDK table is the CloudFormation one`);
  }
});

test('the Terraform text parses as HCL into the same key schema, TTL and index', async () => {
  for (const name of Object.keys(cases) as Case[]) {
    const hcl = await parseHcl('main.tf', await template(name, '--format', 'terraform'));
    const table = at(hcl, 'resource', 'aws_dynamodb_table', 'sessions', 0) as Json;
    const gsi = at(table, 'global_secondary_index', 0) as Json | undefined;
    const capacity = (of: Json | undefined) =>
      of?.read_capacity === undefined ? undefined : [of.read_capacity, of.write_capacity, of.write_capacity];
    const terraform: Shape = {
      tableName: table.name,
      hashKey: [{ AttributeName: table.hash_key, KeyType: 'HASH' }],
      attributes: byName(table.attribute).map((a) => [a.name, a.type]),
      billing: table.billing_mode,
      capacity: capacity(table),
      index: gsi && {
        name: gsi.name,
        keys: [{ AttributeName: gsi.hash_key, KeyType: 'HASH' }],
        projection: gsi.projection_type,
        capacity: capacity(gsi),
      },
      ttl: { AttributeName: at(table, 'ttl', 0, 'attribute_name'), Enabled: at(table, 'ttl', 0, 'enabled') },
      pitr: at(table, 'point_in_time_recovery', 0, 'enabled'),
      deletionProtection: table.deletion_protection_enabled,
      retained: at(table, 'lifecycle', 0, 'prevent_destroy') === true,
    };
    assert.deepEqual(
      terraform,
      tableOf(await cloudFormation(name)).shape,
      `${name}: Terraform = CloudFormation`,
    );
    assert.deepEqual(at(hcl, 'output'), {
      session_table_name: [{ value: `\${aws_dynamodb_table.sessions.name}` }],
      session_table_arn: [{ value: `\${aws_dynamodb_table.sessions.arn}` }],
    });
  }
});

test('template refuses a missing or unknown format, and --output outside CloudFormation and SAM', async () => {
  for (const [flags, message] of [
    [[], /--format is required/],
    [['--format', 'pulumi'], /--format: expected cloudformation, sam, cdk, terraform/],
    [['--format', 'terraform', '--output', 'json'], /--output is for --format cloudformation and sam/],
    [['--format', 'sam', '--output', 'toml'], /--output: expected yaml or json/],
    [['--format', 'cdk', '--rcu', '3'], /--rcu needs --billing provisioned/],
  ] as const) {
    const run = await cli('template', '--table', 'sessions', ...flags);
    assert.equal(run.code, 2, run.stdout);
    assert.match(run.stderr, message);
  }
});
