/**
 * The doctor's findings on a global table, from DescribeTable results in the shape DynamoDB
 * documents (DynamoDB Local has no global tables), and where the CLI may sign with dummy keys.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TableDescription } from '@aws-sdk/client-dynamodb';
import { type Check, formatChecks, type TableSpec } from '../../cli/check.ts';
import { isLoopback } from '../../cli/connect.ts';
import { globalTableChecks, type ReplicaTtl, replicasOf } from '../../cli/replicas.ts';
import { checkTtl } from '../../cli/ttl.ts';

const spec: TableSpec = {
  tableName: 'sessions',
  hashKey: 'id',
  expiresAttribute: 'expires',
  userIndex: undefined,
  userIdAttribute: 'uid',
  region: 'us-east-1',
  endpoint: undefined,
};

/** A version 2019.11.21 global table as DescribeTable in us-east-1 answers: the other replicas listed. */
function globalTable(extra: Partial<TableDescription> = {}): TableDescription {
  return {
    TableName: 'sessions',
    TableStatus: 'ACTIVE',
    KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
    AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
    BillingModeSummary: { BillingMode: 'PAY_PER_REQUEST' },
    GlobalTableVersion: '2019.11.21',
    Replicas: [
      { RegionName: 'eu-west-1', ReplicaStatus: 'ACTIVE' },
      { RegionName: 'ap-southeast-2', ReplicaStatus: 'ACTIVE' },
    ],
    ...extra,
  };
}

const ttlOn = (region: string): ReplicaTtl => ({
  region,
  answer: { ttl: { TimeToLiveStatus: 'ENABLED', AttributeName: 'expires' } },
});
const allOn = ['us-east-1', 'eu-west-1', 'ap-southeast-2'].map(ttlOn);
const byName = (checks: Check[], name: string) => {
  const check = checks.find((c) => c.name === name);
  assert.ok(check, `no check "${name}" in ${checks.map((c) => c.name).join(', ')}`);
  return check;
};

test('a table that is not replicated gets no global-table findings', () => {
  assert.deepEqual(globalTableChecks(globalTable({ Replicas: undefined }), spec, 'us-east-1', []), []);
  assert.deepEqual(globalTableChecks(globalTable({ Replicas: [] }), spec, 'us-east-1', []), []);
  // a replication group of the described table alone replicates nothing
  const alone = globalTable({ Replicas: [{ RegionName: 'us-east-1', ReplicaStatus: 'ACTIVE' }] });
  assert.deepEqual(globalTableChecks(alone, spec, 'us-east-1', []), []);
});

test('each replica is reported with its region, status and TTL, this region first', () => {
  const checks = globalTableChecks(globalTable(), spec, 'us-east-1', allOn);
  const replicas = checks.filter((c) => c.name.startsWith('replica '));
  assert.deepEqual(
    replicas.map((c) => [c.name, c.status, c.message]),
    [
      ['replica us-east-1', 'ok', 'replica us-east-1 (this region): ACTIVE; TTL is on: attribute "expires"'],
      ['replica ap-southeast-2', 'ok', 'replica ap-southeast-2: ACTIVE; TTL is on: attribute "expires"'],
      ['replica eu-west-1', 'ok', 'replica eu-west-1: ACTIVE; TTL is on: attribute "expires"'],
    ],
  );
});

test('the described region counts once whether Replicas lists it or not', () => {
  const listed = globalTable({
    Replicas: [
      { RegionName: 'us-east-1', ReplicaStatus: 'ACTIVE' },
      { RegionName: 'eu-west-1', ReplicaStatus: 'ACTIVE' },
    ],
  });
  assert.deepEqual(
    replicasOf(listed, 'us-east-1').map((r) => [r.region, r.local]),
    [
      ['us-east-1', true],
      ['eu-west-1', false],
    ],
  );
  // not listed: its status is the table's
  const updating = globalTable({ TableStatus: 'UPDATING', Replicas: [{ RegionName: 'eu-west-1' }] });
  assert.deepEqual(
    replicasOf(updating, 'us-east-1').map((r) => [r.region, r.status]),
    [
      ['us-east-1', 'UPDATING'],
      ['eu-west-1', 'UNKNOWN'],
    ],
  );
});

test('a global table in the default mode warns that logout is not final across regions', () => {
  const checks = globalTableChecks(globalTable(), spec, 'us-east-1', allOn);
  const logout = byName(checks, 'logout across regions');
  assert.equal(logout.status, 'warning');
  assert.match(logout.message, /^global table in 3 regions \(us-east-1, ap-southeast-2, eu-west-1\)/);
  assert.match(logout.message, /multi-Region eventual consistency: replication is last writer wins per item/);
  assert.match(logout.message, /a save in flight in another region can overwrite the tombstone/);
  assert.match(logout.fix ?? '', /multi-Region strong consistency \(see docs\/regions\.md\)/);
  // a warning is not a problem: the doctor still passes
  assert.ok(checks.every((c) => c.status !== 'problem'));
  // the same when DescribeTable says EVENTUAL outright
  const eventual = globalTableChecks(
    globalTable({ MultiRegionConsistency: 'EVENTUAL' }),
    spec,
    'us-east-1',
    allOn,
  );
  assert.equal(byName(eventual, 'logout across regions').status, 'warning');
});

test('a replica with TTL off is a problem, fixed in its own region', () => {
  const ttls = allOn.map((t) =>
    t.region === 'eu-west-1'
      ? { region: t.region, answer: { ttl: { TimeToLiveStatus: 'DISABLED' as const } } }
      : t,
  );
  const check = byName(globalTableChecks(globalTable(), spec, 'us-east-1', ttls), 'replica eu-west-1');
  assert.equal(check.status, 'problem');
  assert.match(check.message, /^replica eu-west-1: ACTIVE; TTL is off/);
  assert.match(
    check.fix ?? '',
    /aws dynamodb update-time-to-live --table-name sessions .*AttributeName=expires --region eu-west-1/,
  );
});

test('a replica TTL on another attribute, or unreadable, is a problem', () => {
  const other: ReplicaTtl = {
    region: 'eu-west-1',
    answer: { ttl: { TimeToLiveStatus: 'ENABLED', AttributeName: 'ttl' } },
  };
  const denied = Object.assign(new Error('not allowed'), { name: 'AccessDeniedException' });
  const unreadable: ReplicaTtl = { region: 'ap-southeast-2', answer: { error: denied } };
  const checks = globalTableChecks(globalTable(), spec, 'us-east-1', [ttlOn('us-east-1'), other, unreadable]);
  const eu = byName(checks, 'replica eu-west-1');
  assert.equal(eu.status, 'problem');
  assert.match(eu.message, /TTL is on attribute "ttl", not "expires"/);
  const ap = byName(checks, 'replica ap-southeast-2');
  assert.equal(ap.status, 'problem');
  assert.match(ap.message, /cannot read the TTL status: AccessDeniedException: not allowed/);
  assert.match(ap.fix ?? '', /allow dynamodb:DescribeTimeToLive/);
});

test('a replica whose region could not be asked says its TTL was not checked', () => {
  const check = byName(
    globalTableChecks(globalTable(), spec, 'us-east-1', [ttlOn('us-east-1')]),
    'replica eu-west-1',
  );
  assert.equal(check.status, 'ok');
  assert.equal(
    check.message,
    'replica eu-west-1: ACTIVE; TTL not checked (an --endpoint reaches one region only)',
  );
});

test('a replica that is not ACTIVE is a problem that says what to do', () => {
  const table = globalTable({
    Replicas: [
      {
        RegionName: 'eu-west-1',
        ReplicaStatus: 'REGION_DISABLED',
        ReplicaStatusDescription: 'Region disabled by the account',
      },
      { RegionName: 'ap-southeast-2', ReplicaStatus: 'CREATING', ReplicaStatusPercentProgress: '40' },
    ],
  });
  const checks = globalTableChecks(table, spec, 'us-east-1', allOn);
  const eu = byName(checks, 'replica eu-west-1');
  assert.equal(eu.status, 'problem');
  assert.match(
    eu.message,
    /^replica eu-west-1: REGION_DISABLED \(Region disabled by the account\); TTL is on/,
  );
  assert.match(eu.fix ?? '', /enable eu-west-1 for the account again: after 20 hours/);
  const ap = byName(checks, 'replica ap-southeast-2');
  assert.equal(ap.status, 'problem');
  assert.equal(ap.fix, 'wait until it is ACTIVE, then run this again');
});

test('multi-Region strong consistency: logout is final, the witness is listed, TTL is not supported', () => {
  const table = globalTable({
    MultiRegionConsistency: 'STRONG',
    Replicas: [{ RegionName: 'us-east-2', ReplicaStatus: 'ACTIVE' }],
    GlobalTableWitnesses: [{ RegionName: 'us-west-2', WitnessStatus: 'ACTIVE' }],
  });
  const checks = globalTableChecks(table, spec, 'us-east-1', []);
  assert.deepEqual(
    checks.map((c) => [c.name, c.status]),
    [
      ['replica us-east-1', 'ok'],
      ['replica us-east-2', 'ok'],
      ['witness us-west-2', 'ok'],
      ['logout across regions', 'ok'],
    ],
  );
  assert.match(
    byName(checks, 'replica us-east-2').message,
    /TTL not supported \(multi-Region strong consistency\)/,
  );
  assert.match(byName(checks, 'logout across regions').message, /a logout is final everywhere/);
  const creating = globalTableChecks(
    { ...table, GlobalTableWitnesses: [{ RegionName: 'us-west-2', WitnessStatus: 'CREATING' }] },
    spec,
    'us-east-1',
    [],
  );
  assert.equal(byName(creating, 'witness us-west-2').status, 'problem');
  // TTL off is then a warning with what to do instead, not a problem that cannot be fixed
  const ttl = checkTtl({ ttl: { TimeToLiveStatus: 'DISABLED' } }, spec, true);
  assert.equal(ttl.status, 'warning');
  assert.match(ttl.message, /do not support it, so expired sessions stay stored/);
  assert.equal(checkTtl({ ttl: { TimeToLiveStatus: 'DISABLED' } }, spec).status, 'problem');
});

test('only loopback endpoints count as DynamoDB Local', () => {
  for (const url of [
    'http://127.0.0.1:8000',
    'http://localhost:8000',
    'http://[::1]:8000',
    'http://127.1.2.3',
  ]) {
    assert.equal(isLoopback(url), true, url);
  }
  for (const url of [
    'http://dynamodb:8000',
    'https://dynamodb.us-east-1.amazonaws.com',
    'http://10.0.0.1',
    'nonsense',
  ]) {
    assert.equal(isLoopback(url), false, url);
  }
});

test('the report shows a warning with its tip and still passes', () => {
  const checks: Check[] = [
    { name: 'table', status: 'ok', message: 'table "sessions" exists and is ACTIVE' },
    ...globalTableChecks(globalTable(), spec, 'us-east-1', allOn),
  ];
  const text = formatChecks(checks);
  assert.match(
    text,
    /^ {2}ok {7}replica us-east-1 \(this region\): ACTIVE; TTL is on: attribute "expires"$/m,
  );
  assert.match(text, /^ {2}warning {2}global table in 3 regions/m);
  assert.match(text, /^ {11}tip: if a logout must hold in every region at once/m);
  assert.match(text, /^All checks passed, 1 warning\.$/m);
  const broken = formatChecks([{ name: 'ttl', status: 'problem', message: 'TTL is off', fix: 'a\nor: b' }]);
  assert.equal(broken, '  problem  TTL is off\n           fix: a\n           or: b\n1 problem found.');
});
